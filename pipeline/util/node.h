#ifndef NODE_H
#define NODE_H
#include "strbuf.h"

/*
 * A small element tree: the program's own model of a document in the
 * urn:mimamori:1 namespace, so that no stage touches libxml2 (lib/xml.c
 * builds trees from parsed and validated XML; node_write() serialises them).
 *
 * An element has either text (a leaf) or child elements, never both:
 * none of our schemas has mixed content. Names are local names; every
 * element is in the urn:mimamori:1 namespace.
 */
struct node_attr {
	char *name;
	char *value;
	struct node_attr *next;
};

struct node {
	char *name;
	char *text;                 /* NULL when the element has no text */
	struct node_attr *attrs;    /* in document order */
	struct node *parent;
	struct node *child, *last;  /* first and last child */
	struct node *next;          /* next sibling */
};

#define MIMAMORI_NS "urn:mimamori:1"

struct node *node_new(const char *name);
/* Append a new child (text may be NULL); returns it. */
struct node *node_add(struct node *parent, const char *name, const char *text);
/* Append an existing tree as the last child of parent. */
void node_append(struct node *parent, struct node *child);
/* Move every child of from to the end of to's children. */
void node_move_children(struct node *to, struct node *from);
/* Detach n from its parent and free it with all it holds. */
void node_remove(struct node *n);
void node_free(struct node *n);
struct node *node_copy(const struct node *n);

void node_set_text(struct node *n, const char *text);
void node_set_attr(struct node *n, const char *name, const char *value);
const char *node_attr(const struct node *n, const char *name);

/* The first child named name, or NULL. */
struct node *node_child(const struct node *n, const char *name);
/* The next sibling named like n, or NULL (iterate over repeated children). */
struct node *node_next_same(const struct node *n);
/* Follow a slash-separated path of child names ("person/address"). */
struct node *node_path(const struct node *n, const char *path);
/* The text at path, or NULL when the element is absent or has no text. */
const char *node_text(const struct node *n, const char *path);

/*
 * Serialise as UTF-8 XML with an XML declaration, the namespace on the
 * root, two-space indentation; text and attribute values escaped.
 */
void node_write(const struct node *root, struct strbuf *out);
/* The same with another namespace on the root (CAP, Atom). */
void node_write_ns(const struct node *root, const char *ns, struct strbuf *out);

#endif
