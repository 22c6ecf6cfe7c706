/*
 * watch - run the right stage as soon as a file lands
 * (Being written: until then it says so and exits 70.)
 */
#include <sysexits.h>
#include "../commands.h"
#include "../util/msg.h"

int cmd_watch(int argc, char **argv, struct context *ctx)
{
	error("not implemented yet");
	return EX_SOFTWARE;
}
