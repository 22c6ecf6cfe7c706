/*
 * node - the element tree every stage works on (see node.h), and its
 * serialisation to XML. No parsing here: lib/xml.c builds trees.
 */
#include <stdlib.h>
#include <string.h>
#include "node.h"
#include "xalloc.h"

struct node *node_new(const char *name)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->name = xstrdup(name);
	return n;
}

void node_append(struct node *parent, struct node *child)
{
	child->parent = parent;
	child->next = NULL;
	if (parent->last)
		parent->last->next = child;
	else
		parent->child = child;
	parent->last = child;
}

struct node *node_add(struct node *parent, const char *name, const char *text)
{
	struct node *n = node_new(name);

	if (text)
		n->text = xstrdup(text);
	node_append(parent, n);
	return n;
}

void node_free(struct node *n)
{
	struct node *c, *next;
	struct node_attr *a, *an;

	if (!n)
		return;
	for (c = n->child; c; c = next) {
		next = c->next;
		node_free(c);
	}
	for (a = n->attrs; a; a = an) {
		an = a->next;
		free(a->name);
		free(a->value);
		free(a);
	}
	free(n->name);
	free(n->text);
	free(n);
}

void node_move_children(struct node *to, struct node *from)
{
	struct node *c;

	if (!from->child)
		return;
	for (c = from->child; c; c = c->next)
		c->parent = to;
	if (to->last)
		to->last->next = from->child;
	else
		to->child = from->child;
	to->last = from->last;
	from->child = from->last = NULL;
}

void node_remove(struct node *n)
{
	struct node *p = n->parent, **pp, *prev = NULL;

	if (p) {
		for (pp = &p->child; *pp; pp = &(*pp)->next) {
			if (*pp == n) {
				*pp = n->next;
				break;
			}
			prev = *pp;
		}
		if (p->last == n)
			p->last = prev;
	}
	node_free(n);
}

struct node *node_copy(const struct node *n)
{
	struct node *c = node_new(n->name), *k;
	struct node_attr *a;

	if (n->text)
		c->text = xstrdup(n->text);
	for (a = n->attrs; a; a = a->next)
		node_set_attr(c, a->name, a->value);
	for (k = n->child; k; k = k->next)
		node_append(c, node_copy(k));
	return c;
}

void node_set_text(struct node *n, const char *text)
{
	free(n->text);
	n->text = text ? xstrdup(text) : NULL;
}

void node_set_attr(struct node *n, const char *name, const char *value)
{
	struct node_attr **ap, *a;

	for (ap = &n->attrs; *ap; ap = &(*ap)->next) {
		if (!strcmp((*ap)->name, name)) {
			free((*ap)->value);
			(*ap)->value = xstrdup(value);
			return;
		}
	}
	a = xcalloc(1, sizeof(*a));
	a->name = xstrdup(name);
	a->value = xstrdup(value);
	*ap = a;
}

const char *node_attr(const struct node *n, const char *name)
{
	const struct node_attr *a;

	if (!n)
		return NULL;
	for (a = n->attrs; a; a = a->next)
		if (!strcmp(a->name, name))
			return a->value;
	return NULL;
}

struct node *node_child(const struct node *n, const char *name)
{
	struct node *c;

	if (!n)
		return NULL;
	for (c = n->child; c; c = c->next)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

struct node *node_next_same(const struct node *n)
{
	struct node *c;

	for (c = n->next; c; c = c->next)
		if (!strcmp(c->name, n->name))
			return c;
	return NULL;
}

struct node *node_path(const struct node *n, const char *path)
{
	char part[128];

	while (n && *path) {
		const char *slash = strchr(path, '/');
		size_t len = slash ? (size_t)(slash - path) : strlen(path);

		if (len >= sizeof(part))
			return NULL;
		memcpy(part, path, len);
		part[len] = '\0';
		n = node_child(n, part);
		path += len + (slash ? 1 : 0);
	}
	return (struct node *)n;
}

const char *node_text(const struct node *n, const char *path)
{
	const struct node *t = node_path(n, path);

	return t ? t->text : NULL;
}

/* "</name>\n" (no printf: this runs for every element of every record). */
static void close_tag(struct strbuf *out, const char *name)
{
	strbuf_addstr(out, "</");
	strbuf_addstr(out, name);
	strbuf_addstr(out, ">\n");
}

static void write_node(const struct node *n, struct strbuf *out, int depth, const char *ns)
{
	const struct node_attr *a;
	const struct node *c;
	int i;

	for (i = 0; i < depth; i++)
		strbuf_addstr(out, "  ");
	strbuf_addch(out, '<');
	strbuf_addstr(out, n->name);
	if (ns) {
		strbuf_addstr(out, " xmlns=\"");
		strbuf_addstr(out, ns);
		strbuf_addch(out, '"');
	}
	for (a = n->attrs; a; a = a->next) {
		strbuf_addch(out, ' ');
		strbuf_addstr(out, a->name);
		strbuf_addstr(out, "=\"");
		strbuf_add_xml_escaped(out, a->value);
		strbuf_addch(out, '"');
	}
	if (n->child) {
		strbuf_addstr(out, ">\n");
		for (c = n->child; c; c = c->next)
			write_node(c, out, depth + 1, NULL);
		for (i = 0; i < depth; i++)
			strbuf_addstr(out, "  ");
		close_tag(out, n->name);
	} else if (n->text && *n->text) {
		strbuf_addch(out, '>');
		strbuf_add_xml_escaped(out, n->text);
		close_tag(out, n->name);
	} else {
		strbuf_addstr(out, "/>\n");
	}
}

void node_write(const struct node *root, struct strbuf *out)
{
	strbuf_addstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	write_node(root, out, 0, MIMAMORI_NS);
}

void node_write_ns(const struct node *root, const char *ns, struct strbuf *out)
{
	strbuf_addstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	write_node(root, out, 0, ns);
}
