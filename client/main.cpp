#include <cstdio>
#include "trifecta/proto/version.hpp"
int main() { std::printf("trifecta %s\n", trifecta::proto::kVersion); }
