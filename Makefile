# Thin wrapper over scripts/ and CMake. The two commands the README promises:
#   make demo   set up dependencies, build, start trifectad, show real answers
#   make test   set up dependencies, build, run the whole test suite under CTest
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?=

.PHONY: all setup configure build demo test bench clean sanitize coverage

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

bench: build
	bash scripts/bench.sh $(BUILD)

# ASan + UBSan build and test run in a separate tree.
sanitize:
	$(MAKE) test BUILD=build-asan BUILD_TYPE=Debug CMAKE_FLAGS="-DTRIFECTA_SANITIZE=address,undefined"

# gcov-instrumented build and test run in a separate tree, then line and branch coverage per
# module (scripts/coverage.sh; fails below the floors in scripts/coverage_floors.txt).
coverage:
	rm -f $$(find build-coverage -name '*.gcda' 2>/dev/null)
	-$(MAKE) test BUILD=build-coverage BUILD_TYPE=Debug CMAKE_FLAGS="-DTRIFECTA_COVERAGE=ON"
	bash scripts/coverage.sh build-coverage

clean:
	rm -rf $(BUILD) build-asan build-coverage
