/*
 * exchange_receipt - receipts.xml of a bundle (exchange.h): what the
 * sending agency says it applied of our bundles. Checked here; import
 * records it (exchange_acknowledge()) when the bundle is committed.
 *
 * SECURITY: hostile input, read only after the manifest named a known
 * sender; believed only once the bundle's one signature is that
 * sender's pinned key (import.c). A receipt can only acknowledge bundles
 * this node wrote to its signer: one naming a sequence never written to
 * it rejects the whole bundle. Reasons name the field, never data.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "exchange.h"
#include "../lib/xml.h"
#include "../util/strbuf.h"

#define RECEIPTS_MAX_MARKUP  (2 * 100000 + 2000)

int exchange_receipts_check(struct registry *reg, const struct agency *from,
			    const char *data, size_t len, long *highest, struct strbuf *why)
{
	struct strbuf xwhy = STRBUF_INIT;
	struct node *root = NULL;
	const struct node *ap;
	long written = exchange_state_long(reg, "export-n", from->id);
	long acked = exchange_state_long(reg, "ack-n", from->id);
	size_t i, markup = 0;
	int ret = -1;

	*highest = 0;
	for (i = 0; i < len; i++)
		markup += data[i] == '<';
	if (markup > RECEIPTS_MAX_MARKUP) {
		strbuf_addf(why, "receipts.xml: more than %d elements", RECEIPTS_MAX_MARKUP);
		return -1;
	}
	if (xml_parse(data, len, BUNDLE_MAX_ENTRY, XML_SCHEMA_MANIFEST, &root, &xwhy) < 0) {
		strbuf_addf(why, "receipts.xml: %s", xwhy.buf);
		goto out;
	}
	if (strcmp(root->name, "receipts")) {
		strbuf_addf(why, "receipts.xml: <%s> is not <receipts>", root->name);
		goto out;
	}
	for (ap = node_child(root, "applied"); ap; ap = node_next_same(ap)) {
		const char *v = node_attr(ap, "sequence");
		char *end;
		long n;

		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || *end || n <= 0) {
			strbuf_addf(why, "receipts.xml: <applied sequence>: '%s' is not a "
				    "sequence number", v);
			goto out;
		}
		if (n > written || (n > acked && exchange_sent_seq(reg, from->id, n) < 0)) {
			strbuf_addf(why, "receipts.xml: <applied sequence>: %ld was never sent "
				    "to '%s'", n, from->id);
			goto out;
		}
		if (n > *highest)
			*highest = n;
	}
	ret = 0;
out:
	node_free(root);
	strbuf_release(&xwhy);
	return ret;
}
