/*
 * request-mail - compose a signed request mail from fields
 * (Being written: until then it says so and exits 70.)
 */
#include <sysexits.h>
#include "../commands.h"
#include "../util/msg.h"

int cmd_request_mail(int argc, char **argv, struct context *ctx)
{
	error("not implemented yet");
	return EX_SOFTWARE;
}
