# Thin wrapper over scripts/ and CMake. The two commands the README promises:
#   make demo   set up dependencies, build, start trifectad, show real answers
#   make test   set up dependencies, build, run the whole test suite under CTest
# and for installing (docs/install.md):
#   make install   build, then `cmake --install` into $(PREFIX) (default /usr/local); DESTDIR honoured
#   make package   build, then CPack: $(BUILD)/trifecta_<version>_amd64.deb
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?=
PREFIX ?= /usr/local

.PHONY: all setup configure build demo test bench clean sanitize install package coverage relevance fuzz

all: build

setup:
	bash scripts/setup.sh

configure: setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j 2

demo: build
	bash scripts/demo.sh $(BUILD)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j 2 --timeout 600

install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

package: build
	cmake --build $(BUILD) --target package

bench: build
	bash scripts/bench.sh $(BUILD)

# Relevance benchmark (docs/relevance.md): MRR@10 / recall@5 / nDCG@10 per query set, next to the
# FTS5 and ripgrep baselines. RELEVANCE_ARGS passes options (e.g. --split check --sets pip_agent).
relevance: build
	BUILD_DIR=$(BUILD) bash scripts/relevance.sh $(RELEVANCE_ARGS)

# ASan + UBSan build and test run in a separate tree.
sanitize:
	$(MAKE) test BUILD=build-asan BUILD_TYPE=Debug CMAKE_FLAGS="-DTRIFECTA_SANITIZE=address,undefined"

# gcov-instrumented build and test run in a separate tree, then line and branch coverage per
# module (scripts/coverage.sh; fails below the floors in scripts/coverage_floors.txt).
coverage:
	rm -f $$(find build-coverage -name '*.gcda' 2>/dev/null)
	-$(MAKE) test BUILD=build-coverage BUILD_TYPE=Debug CMAKE_FLAGS="-DTRIFECTA_COVERAGE=ON"
	bash scripts/coverage.sh build-coverage

# libFuzzer targets (tests/fuzz, docs/fuzzing.md): a clang build with ASan + UBSan in build-fuzz/
# (only the libraries the targets need), then each target for FUZZ_SECONDS (scripts/fuzz.sh).
FUZZ_SECONDS ?= 120
fuzz: setup
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Fuzz \
	  -DCMAKE_C_FLAGS_FUZZ="-O1 -gline-tables-only" -DCMAKE_CXX_FLAGS_FUZZ="-O1 -gline-tables-only" \
	  -DTRIFECTA_FUZZ=ON -DTRIFECTA_BUILD_TESTS=OFF $(CMAKE_FLAGS)
	cmake --build build-fuzz -j 2 --target trifecta_fuzzers
	bash scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) build-asan build-coverage build-fuzz
