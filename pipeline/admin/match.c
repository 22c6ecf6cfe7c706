/*
 * match - rank registered people against a description
 * (Being written: until then it says so and exits 70.)
 */
#include <sysexits.h>
#include "../commands.h"
#include "../util/msg.h"

int cmd_match(int argc, char **argv, struct context *ctx)
{
	error("not implemented yet");
	return EX_SOFTWARE;
}
