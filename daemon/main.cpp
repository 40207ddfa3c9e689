#include <cstdio>
#include "trifecta/proto/version.hpp"
int main() { std::printf("trifectad %s\n", trifecta::proto::kVersion); }
