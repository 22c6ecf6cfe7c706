#ifndef CONFIG_H
#define CONFIG_H
#include "../util/fileio.h"
#include "../util/strbuf.h"

/*
 * The configuration (mimamori.xml, schemas/config.xsd): which agency this
 * node is, where its spool and keyring are, the agencies, operators and
 * alert lists. Loaded once per process; the one global besides the clock.
 */

enum agency_kind {
	AGENCY_CITY,
	AGENCY_CUSTODIAN,
	AGENCY_WARD_OFFICE,
	AGENCY_CARE_CENTER,
	AGENCY_POLICE,
	AGENCY_MAIL_VENDOR,
	AGENCY_KIND_MAX
};

/* "ward-office" <-> AGENCY_WARD_OFFICE; -1 for an unknown name. */
int agency_kind_parse(const char *name);
const char *agency_kind_name(enum agency_kind kind);

/* A set of ward ids, or every ward. */
struct wards {
	int all;
	struct strlist ids;  /* sorted */
};
int wards_has(const struct wards *w, const char *ward);
/* Whether two sets share a ward. */
int wards_meet(const struct wards *a, const struct wards *b);

struct agency {
	char *id;
	enum agency_kind kind;
	char *name;
	char *key;       /* full fingerprint, uppercase hex */
	char *address;   /* may be NULL */
	char *phone;     /* may be NULL */
	struct wards wards;
	int source;      /* its bundles may carry records and deletions:
			    source="yes", or, when no agency says so, a
			    custodian */
};

struct operator {
	char *key;
	char *name;
	char *address;
};

enum list_audience { LIST_AGENCY, LIST_COMMUNITY };

struct member {
	char *address;
	char *name;
	long pledge;     /* date of the confidentiality pledge, -1: none */
	int iso2022jp;   /* charset="iso-2022-jp" asked for */
};

struct list {
	char *id;
	enum list_audience audience;
	struct wards wards;
	char *address;
	char *owner;     /* told of members disabled by bounces; NULL: nobody */
	struct member *members;
	size_t nr_members;
	int photo;       /* photo="yes": its alerts carry the photo */
	int trained;     /* trained="yes": a community list of trained partners */
};

struct config {
	char *path;             /* the config file */
	char *dir;              /* its folder: relative paths start here */
	char *node_agency;
	struct agency *self;    /* the agency this node is */
	char *spool;            /* absolute */
	char *gnupg_home;       /* absolute */
	char *sender_address;
	char *sender_name;
	char *smtp_host;        /* NULL: local Maildir delivery */
	int smtp_port;
	char *imap_host;        /* NULL: no fetch */
	int imap_port;
	char *imap_user;
	char *imap_password_file;  /* absolute */
	char *imap_mailbox;     /* default INBOX */
	int imap_delete;        /* after="delete" (default: mark seen) */
	int require_encrypted;  /* <requests encrypted="required"/> */
	int approval;           /* <requests approval="second-operator"/> */
	long escalate_after;    /* <escalation after=…/> in seconds; 0: never */
	struct agency *agencies;
	size_t nr_agencies;
	struct operator *operators;
	size_t nr_operators;
	struct list *lists;
	size_t nr_lists;
	struct strlist wards;   /* every ward named by an agency, sorted */
	char *validity;         /* ISO 8601 durations */
	char *reminder;
	char *alert_data;
	char *rejected;         /* how long rejected/ keeps an input */
};

/*
 * Load and validate the configuration at path. Schema errors and values
 * that cannot be used (a bad duration, a duplicate agency id, a node agency
 * that is not listed) are problems: each is appended to problems as one
 * line, and -1 is returned. 0 when it can be used.
 */
int config_load(struct config *cfg, const char *path, struct strbuf *problems);
/*
 * The deeper checks of check-config, after config_load() and gpg_init():
 * keys present and usable (the node's own with its secret part), wards
 * known, duplicate members and operators. Appends one line per problem
 * (an error: the program cannot run as configured) and returns their
 * number. What the program runs with but someone should see is appended
 * to warnings, one "warning: …" line each: a community member without a
 * pledge or with one in the future, lists sharing one address, a key
 * expiring within CONFIG_KEY_WARN_DAYS (by the program's clock), another
 * agency's or an operator's key expired or revoked.
 */
#define CONFIG_KEY_WARN_DAYS 30
int config_check(const struct config *cfg, struct strbuf *problems, struct strbuf *warnings);
void config_release(struct config *cfg);

struct agency *config_agency(const struct config *cfg, const char *id);
struct agency *config_agency_by_name(const struct config *cfg, const char *name);
struct operator *config_operator(const struct config *cfg, const char *fpr);
/* Whether a community member may receive alerts today (a pledge, not in the future). */
int member_pledged(const struct member *m, long today);

#endif
