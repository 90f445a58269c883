/* A fixture for the floors test (tests/meson.build, floors-violation): a numeric kernel that
 * includes the network above it must fail check_floors.sh. Never compiled. */
#include "lstm.h"
#include "network.h"
