// Tiny main: everything lives in decamp_core (see cli/cli.hpp).
#include "cli/cli.hpp"

int main(int argc, char** argv) { return decamp::cli::main(argc, argv); }
