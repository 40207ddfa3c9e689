#include "trifecta/proto/version.hpp"
