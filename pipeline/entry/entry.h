#ifndef ENTRY_H
#define ENTRY_H
#include "../commands.h"
#include "../util/node.h"
#include "../util/hashmap.h"
#include "../util/strbuf.h"

/*
 * The entry stage: registrations as care centers take them down. The
 * paper form typed as key: value lines (form.c, `mimamori form`), a
 * register kept in a spreadsheet (csv.c, `mimamori import-csv`), the
 * shared work of both (entry_build.c: values to a checked registration
 * document; entry_out.c: into incoming/ or a folder), the dates of the
 * paper form (entry_date.c) and the listing of the register (list.c).
 */

/*
 * Every key of the form, in one table: ENTRY_KEYS(X) calls
 * X(NAME, "form-key", "CSV column", flags) once per key, in the form's
 * order. ENTRY_REQUIRED_COLUMN: a CSV file must have the column.
 */
#define ENTRY_REQUIRED_COLUMN 1
#define ENTRY_KEYS(X) \
	X(BASIS, "basis", "申請方式", 0) \
	X(ORDINANCE_CLAUSE, "ordinance-clause", "根拠条項", 0) \
	X(APPLICANT, "applicant", "申請者", 0) \
	X(GUARDIAN_KIND, "guardian-kind", "後見の種類", 0) \
	X(GUARDIAN_NAME, "guardian-name", "後見人氏名", 0) \
	X(GUARDIAN_CERTIFICATE, "guardian-certificate", "登記事項証明書", 0) \
	X(NAME, "name", "氏名", 1) \
	X(NAME_KANA, "name-kana", "ふりがな", 1) \
	X(SEX, "sex", "性別", 1) \
	X(MAIDEN_NAME, "maiden-name", "旧姓", 0) \
	X(BIRTH_DATE, "birth-date", "生年月日", 1) \
	X(ADDRESS, "address", "住所", 1) \
	X(WARD, "ward", "区", 1) \
	X(PHONE_HOME, "phone-home", "電話（自宅）", 1) \
	X(PHONE_MOBILE, "phone-mobile", "携帯電話", 1) \
	X(MOBILE_CARRIER, "mobile-carrier", "携帯電話会社", 0) \
	X(MOBILE_HOLDER, "mobile-holder", "携帯電話の契約者", 0) \
	X(USUAL_PLACES, "usual-places", "よく行く場所", 1) \
	X(PREVIOUS_RESIDENCES, "previous-residences", "以前の居住地", 1) \
	X(HEIGHT_CM, "height-cm", "身長", 0) \
	X(WEIGHT_KG, "weight-kg", "体重", 0) \
	X(BUILD, "build", "体格", 0) \
	X(FACE, "face", "顔型", 0) \
	X(COMPLEXION, "complexion", "顔色", 0) \
	X(GLASSES, "glasses", "眼鏡", 0) \
	X(HAIR, "hair", "頭髪", 0) \
	X(BLOOD_TYPE, "blood-type", "血液型", 0) \
	X(TEETH, "teeth", "入れ歯", 0) \
	X(SHOE_SIZE_CM, "shoe-size-cm", "靴のサイズ", 0) \
	X(FOOTWEAR, "footwear", "よく履く履物", 0) \
	X(MARKS, "marks", "傷跡・あざ", 0) \
	X(MOLES, "moles", "ほくろの位置", 0) \
	X(BEHAVIOUR, "behaviour", "行動の特徴", 0) \
	X(DIALECT, "dialect", "方言・なまり", 0) \
	X(SPEECH, "speech", "口癖・話し方", 0) \
	X(GAIT, "gait", "歩行", 0) \
	X(HOBBIES, "hobbies", "趣味・嗜好", 0) \
	X(OTHER, "other", "その他の特徴", 0) \
	X(LOST_BEFORE_COUNT, "lost-before-count", "行方不明になった回数", 0) \
	X(LOST_BEFORE, "lost-before", "行方不明になった時の状況", 0) \
	X(PHOTO_FILE, "photo-file", "写真ファイル", 0) \
	X(REQUESTER_1_NAME, "requester-1-name", "依頼者1氏名", 0) \
	X(REQUESTER_1_RELATIONSHIP, "requester-1-relationship", "依頼者1続柄", 0) \
	X(REQUESTER_1_PHONE, "requester-1-phone", "依頼者1電話", 0) \
	X(REQUESTER_2_NAME, "requester-2-name", "依頼者2氏名", 0) \
	X(REQUESTER_2_RELATIONSHIP, "requester-2-relationship", "依頼者2続柄", 0) \
	X(REQUESTER_2_PHONE, "requester-2-phone", "依頼者2電話", 0) \
	X(REQUESTER_3_NAME, "requester-3-name", "依頼者3氏名", 0) \
	X(REQUESTER_3_RELATIONSHIP, "requester-3-relationship", "依頼者3続柄", 0) \
	X(REQUESTER_3_PHONE, "requester-3-phone", "依頼者3電話", 0) \
	X(CARE_LEVEL, "care-level", "要介護度", 0) \
	X(DIAGNOSIS, "diagnosis", "診断名", 0) \
	X(CARE_MANAGER_OFFICE, "care-manager-office", "居宅介護支援事業所", 0) \
	X(CARE_MANAGER_NAME, "care-manager-name", "ケアマネジャー氏名", 0) \
	X(CARE_MANAGER_PHONE, "care-manager-phone", "ケアマネジャー電話", 0) \
	X(SERVICES, "services", "利用サービス", 0) \
	X(CONSENT_DATE, "consent-date", "同意日", 1) \
	X(CONSENT_BROADCAST, "consent-broadcast", "一斉配信への同意", 1) \
	X(CONSENT_PHOTO, "consent-photo", "写真の配信への同意", 0) \
	X(CONSENT_SIGNED_BY, "consent-signed-by", "署名者", 0) \
	X(INTAKE_CENTER, "intake-center", "受付センター", 1) \
	X(INTAKE_STAFF, "intake-staff", "受付担当者", 1) \
	X(INTERVIEW_DATE, "interview-date", "面接日", 1)

#define ENTRY_ENUM(name, key, column, flags) E_##name,
enum entry_key { ENTRY_KEYS(ENTRY_ENUM) ENTRY_NKEYS };
#undef ENTRY_ENUM

/* The form keys, NULL-terminated (for core/kvform.h), and the columns. */
extern const char *const entry_keys[ENTRY_NKEYS + 1];
extern const char *const entry_columns[ENTRY_NKEYS];
extern const unsigned char entry_flags[ENTRY_NKEYS];

/*
 * A date as the paper form and spreadsheets write it, after NFKC (so
 * full-width digits do): 1941-04-01, 1941/4/1, 1941.4.1, 19410401,
 * 1941年4月1日, and the eras 明治 大正 昭和 平成 令和 (or M T S H R,
 * either case), the year in digits, in kanji numerals (十六) or 元:
 * 昭和16年4月1日, 昭和十六年四月一日, S16.4.1, 平成元年1月8日. An era date
 * must lie inside its era (昭和64年1月7日 is 1989-01-07; 昭和64年1月8日
 * does not exist). Sets *days (timeutil.h). Returns 0; -1 when s is not
 * written as a date; -2 when it is, but no such day exists.
 */
int entry_parse_date(const char *s, long *days);

/*
 * A phone number as people write it (full-width digits, ー － ‐ – — as
 * hyphens, spaces, parentheses around the area code) into ASCII digits
 * and single hyphens ("078-000-0000") in out. -1 unless it has 10 or 11
 * digits and starts with 0.
 */
int entry_parse_phone(const char *s, struct strbuf *out);

/* How the problems of a registration name its fields. */
enum entry_style {
	ENTRY_FORM,   /* "birth-date: not a date" */
	ENTRY_CSV,    /* "生年月日 (birth-date): not a date" */
};

/*
 * Build the registration document from the values of one form or row
 * (val[E_…]: NULL or "" when not given; every value valid UTF-8), check
 * every value (dates, phones, words of the form, ward and care center
 * known to cfg, dates not after today), and validate the document
 * against schemas/registration.xsd. dir: the folder photo-file names are
 * read from. Returns 0 with the document in *doc, or -1 with every
 * problem appended to why ("; " between them), naming the key or column
 * and what is wrong, never a value.
 */
int entry_build(const struct config *cfg, char *const *val, const char *dir,
		enum entry_style style, long today, struct node **doc, struct strbuf *why);

/*
 * Where built documents go: incoming/ of the spool (committed in batches
 * as `mimamori submit` does, named like it: a name taken gets .1, .2 …),
 * or a folder given with -o. Result lines are printed once the document
 * is durable: "accepted LABEL PATH".
 */
struct entry_out {
	struct context *ctx;
	const char *dir;           /* -o DIR, or NULL for incoming/ */
	struct spool_batch batch;
	struct hashmap taken;      /* names of this batch */
	struct strlist lines;      /* "accepted LABEL\tPATH" (or a rejection
				    * queued behind them), printed after the commit */
	size_t accepted, rejected;
	int failed;                /* a write failed: 74, nothing more is taken */
};

void entry_out_init(struct entry_out *out, struct context *ctx, const char *dir);
/* Queue doc under name (a safe file name ending in .xml). 0 or -1 (reported). */
int entry_out_add(struct entry_out *out, const char *label, const char *name,
		  const struct node *doc);
/*
 * Print a rejection, "rejected LABEL: REASON", and audit it with the
 * details what ("form=2", "row=7": positions, no names or values).
 */
void entry_out_reject(struct entry_out *out, const char *label, const char *what,
		      const char *reason);
/* Commit what is queued and print its lines. 0 or -1 (reported). */
int entry_out_flush(struct entry_out *out);
/* Flush, release, and return the command's exit code. */
int entry_out_finish(struct entry_out *out);

#endif
