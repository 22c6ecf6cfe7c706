/*
 * deliver - send queued mail over SMTP or into local Maildirs
 * (Being written: until then it says so and exits 70.)
 */
#include <sysexits.h>
#include "../commands.h"
#include "../util/msg.h"

int cmd_deliver(int argc, char **argv, struct context *ctx)
{
	error("not implemented yet");
	return EX_SOFTWARE;
}
