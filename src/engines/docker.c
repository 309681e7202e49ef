/* SPDX-License-Identifier: Apache-2.0 */
/*
 * daemon.json edits. The file is the user's: nvbind changes the text, not a re-serialized tree.
 * Only the members it sets (runtimes.nvbind.path, default-runtime, features.cdi) are replaced or
 * inserted; every other byte stays, and new members follow the file's own layout (its indent
 * unit, its spacing around ':' and ',', one line per member or all on one line). The edited text
 * is parsed again and must be the old document plus exactly those members.
 */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <time.h>

#include "engines/engines.h"
#include "engines/inspect.h"
#include "format/json.h"

#define ENGINE_CONFIG_MAX (4u << 20)
#define BACKUP_TAG ".nvbind-backup-"

/* ------------------------------------------------------------------ scanning the text */

/* How the file writes JSON, learnt from its first occurrences. */
struct style {
	char unit[32];  /* one level of indentation: "    ", "  ", "\t" */
	char colon[16]; /* between a key and its value: ": ", ":", " : " */
	char comma[16]; /* after a comma on the same line: " " or "" */
	char pad[16];   /* inside the braces of a one-line object: "" or " " */
	const char *nl; /* "\n", or "\r\n" for a CRLF file */
	bool have_unit, have_colon, have_comma, have_pad;
};

static size_t skip_ws(const char *t, size_t i)
{
	while (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')
		i++;
	return i;
}

/* Index just past the string that starts at t[i] == '"'. */
static size_t skip_string(const char *t, size_t i)
{
	for (i++; t[i] && t[i] != '"'; i++)
		if (t[i] == '\\' && t[i + 1])
			i++;
	return t[i] ? i + 1 : i;
}

static bool has_newline(const char *t, size_t from, size_t to)
{
	return memchr(t + from, '\n', to - from) != NULL;
}

static size_t line_start(const char *t, size_t pos)
{
	while (pos > 0 && t[pos - 1] != '\n')
		pos--;
	return pos;
}

/* The spaces and tabs that start the line holding pos (malloc'ed). */
static char *line_indent(const char *t, size_t pos)
{
	size_t s = line_start(t, pos);
	return strndup(t + s, strspn(t + s, " \t"));
}

static void copy_style(char *dst, size_t size, const char *t, size_t from, size_t to, bool *have)
{
	if (*have || to - from >= size || has_newline(t, from, to))
		return;
	memcpy(dst, t + from, to - from);
	dst[to - from] = '\0';
	*have = true;
}

/* Index just past the value at t[i] (after white space), learning the style on the way. The
 * text has been parsed by jansson already: it is well formed. */
static size_t walk(const char *t, size_t i, struct style *st)
{
	i = skip_ws(t, i);
	if (t[i] == '"')
		return skip_string(t, i);
	if (t[i] != '{' && t[i] != '[') {
		while (t[i] && !strchr(",]} \t\r\n", t[i]))
			i++;
		return i;
	}
	bool object = t[i] == '{';
	size_t open = i, first = skip_ws(t, i + 1);
	if (object && t[first] == '"')
		copy_style(st->pad, sizeof(st->pad), t, open + 1, first, &st->have_pad);
	if (object && t[first] == '"' && !st->have_unit && has_newline(t, open, first)) {
		_cleanup_free_ char *outer = line_indent(t, open), *inner = line_indent(t, first);
		size_t n = outer ? strlen(outer) : 0;
		if (outer && inner && strlen(inner) > n && !strncmp(inner, outer, n) &&
		    strlen(inner) - n < sizeof(st->unit)) {
			strcpy(st->unit, inner + n);
			st->have_unit = true;
		}
	}
	i = first;
	while (t[i] && t[i] != (object ? '}' : ']')) {
		if (object) {
			size_t key_end = skip_string(t, i), colon = skip_ws(t, key_end);
			size_t value = skip_ws(t, colon + 1);
			copy_style(st->colon, sizeof(st->colon), t, key_end, value, &st->have_colon);
			i = colon + 1;
		}
		i = skip_ws(t, walk(t, i, st));
		if (t[i] == ',') {
			size_t next = skip_ws(t, i + 1);
			copy_style(st->comma, sizeof(st->comma), t, i + 1, next, &st->have_comma);
			i = next;
		}
	}
	return t[i] ? i + 1 : i;
}

static void learn_style(const char *t, struct style *st)
{
	memset(st, 0, sizeof(*st));
	walk(t, 0, st);
	st->nl = strstr(t, "\r\n") ? "\r\n" : "\n";
	if (!st->have_unit)
		strcpy(st->unit, "    ");
	if (!st->have_colon)
		strcpy(st->colon, ": ");
	if (!st->have_comma)
		strcpy(st->comma, st->colon[strlen(st->colon) - 1] == ' ' ? " " : "");
}

/* One object of the text: where it is, its last member, and the member asked for. */
struct object_span {
	size_t open, close;        /* the braces */
	size_t members;
	size_t last_key, last_end; /* the last member: its key, the end of its value */
	bool found;
	size_t key, value, end;    /* the member asked for: key, value [value, end) */
};

static bool key_is(const char *t, size_t start, size_t end, const char *key)
{
	size_t n = end - start - 2; /* without the quotes */
	if (!memchr(t + start, '\\', end - start))
		return n == strlen(key) && !memcmp(t + start + 1, key, n);
	json_t *s = json_loadb(t + start, end - start, JSON_DECODE_ANY, NULL);
	bool same = json_is_string(s) && !strcmp(json_string_value(s), key);
	json_decref(s);
	return same;
}

static void scan_object(const char *t, size_t open, const char *key, struct object_span *o)
{
	struct style ignored;
	memset(o, 0, sizeof(*o));
	memset(&ignored, 0, sizeof(ignored));
	o->open = open;
	size_t i = skip_ws(t, open + 1);
	while (t[i] == '"') {
		size_t key_end = skip_string(t, i);
		size_t value = skip_ws(t, skip_ws(t, key_end) + 1);
		size_t end = walk(t, value, &ignored);
		if (key && key_is(t, i, key_end, key)) {
			o->found = true;
			o->key = i;
			o->value = value;
			o->end = end;
		}
		o->members++;
		o->last_key = i;
		o->last_end = end;
		i = skip_ws(t, end);
		if (t[i] == ',')
			i = skip_ws(t, i + 1);
	}
	o->close = i;
}

/* ------------------------------------------------------------------ writing new members */

static int put_json(struct nvb_strbuf *b, const json_t *v)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY);
	if (!s)
		return -1;
	nvb_strbuf_append(b, s);
	free(s);
	return 0;
}

/* Write value as the file would: an object one member a line indented from ind, or on one line. */
static int render(struct nvb_strbuf *b, const json_t *value, const char *ind, bool multi,
		  const struct style *st)
{
	if (!json_is_object(value))
		return put_json(b, value);
	_cleanup_free_ char *inner = nvb_asprintf("%s%s", ind, st->unit);
	if (!inner)
		return -1;
	const char *key;
	json_t *member;
	size_t n = 0;
	nvb_strbuf_appendc(b, '{');
	json_object_foreach ((json_t *)value, key, member) {
		json_t *k = json_string(key);
		if (n++)
			nvb_strbuf_appendf(b, ",%s", multi ? "" : st->comma);
		nvb_strbuf_appendf(b, "%s%s", multi ? st->nl : (n == 1 ? st->pad : ""),
				   multi ? inner : "");
		int r = k ? put_json(b, k) : -1;
		json_decref(k);
		nvb_strbuf_append(b, st->colon);
		if (r < 0 || render(b, member, inner, multi, st) < 0)
			return -1;
	}
	if (multi)
		nvb_strbuf_appendf(b, "%s%s}", st->nl, ind);
	else
		nvb_strbuf_appendf(b, "%s}", st->pad);
	return 0;
}

/* text with [from, to) replaced by what the callback writes. */
typedef int (*writer_fn)(struct nvb_strbuf *b, const void *arg);

static char *splice_text(const char *t, size_t from, size_t to, writer_fn fn, const void *arg)
{
	struct nvb_strbuf b = {0};
	nvb_strbuf_appendn(&b, t, from);
	int r = fn(&b, arg);
	nvb_strbuf_append(&b, t + to);
	if (r < 0) {
		nvb_strbuf_free(&b);
		return NULL;
	}
	return nvb_strbuf_take(&b); /* NULL when memory ran out */
}

struct member_write {
	const char *key;       /* NULL: the value alone */
	const json_t *value;
	const char *before;    /* ",", "" */
	const char *lead;      /* new line and indentation, or the one-line separator */
	const char *ind;       /* indentation of the member's line */
	const char *trail;     /* after the member: closing new line and indentation, or "" */
	bool multi;
	const struct style *st;
};

static int write_member(struct nvb_strbuf *b, const void *arg)
{
	const struct member_write *m = arg;
	nvb_strbuf_appendf(b, "%s%s", m->before, m->lead);
	if (m->key) {
		json_t *k = json_string(m->key);
		int r = k ? put_json(b, k) : -1;
		json_decref(k);
		if (r < 0)
			return -1;
		nvb_strbuf_append(b, m->st->colon);
	}
	if (render(b, m->value, m->ind, m->multi, m->st) < 0)
		return -1;
	nvb_strbuf_append(b, m->trail);
	return 0;
}

/* Add "key": value as the last member of the object o. multi: the layout to give an empty
 * object (a non-empty one keeps its own). */
static char *append_member(const char *t, const struct object_span *o, const char *key,
			   const json_t *value, bool multi, const struct style *st)
{
	_cleanup_free_ char *outer = line_indent(t, o->open), *ind = NULL, *lead = NULL,
			    *trail = NULL;
	if (!outer)
		return NULL;
	struct member_write m = {.key = key, .value = value, .st = st};
	if (o->members) {
		m.multi = has_newline(t, o->open, o->close);
		/* a member on the line of the brace: one level in from it; else the last one's */
		ind = has_newline(t, o->open, o->last_key) ? line_indent(t, o->last_key)
							   : nvb_asprintf("%s%s", outer, st->unit);
		lead = m.multi ? nvb_asprintf("%s%s", st->nl, ind ? ind : "") : strdup(st->comma);
		trail = strdup("");
		m.before = ",";
		if (!ind || !lead || !trail)
			return NULL;
		m.ind = ind;
		m.lead = lead;
		m.trail = trail;
		return splice_text(t, o->last_end, o->last_end, write_member, &m);
	}
	/* an empty object: its inside is rewritten */
	m.multi = multi;
	ind = nvb_asprintf("%s%s", outer, multi ? st->unit : "");
	lead = multi ? nvb_asprintf("%s%s", st->nl, ind ? ind : "") : strdup(st->pad);
	trail = multi ? nvb_asprintf("%s%s", st->nl, outer) : strdup(st->pad);
	m.before = "";
	if (!ind || !lead || !trail)
		return NULL;
	m.ind = ind;
	m.lead = lead;
	m.trail = trail;
	return splice_text(t, o->open + 1, o->close, write_member, &m);
}

/* {"k1": {"k2": ... value}} for keys[from..n). */
static json_t *nest(const char *const *keys, size_t from, size_t n, json_t *value)
{
	json_t *v = json_incref(value);
	for (size_t i = n; i-- > from;) {
		json_t *o = json_object();
		if (!o || json_object_set_new(o, keys[i], v) < 0) {
			json_decref(o);
			return NULL;
		}
		v = o;
	}
	return v;
}

/* Set the member at the path keys[0..n) of the top-level object to value, in the text: the
 * last existing object on the path gets the rest of the path as a new member, or the member
 * found is given the new value. Returns the new text (malloc'ed). */
static char *text_set(const char *t, const char *const *keys, size_t n, json_t *value,
		      const struct style *st)
{
	size_t pos = skip_ws(t, 0);
	bool parent_multi = true; /* an empty file gets one member a line */
	for (size_t i = 0; i < n; i++) {
		struct object_span o;
		scan_object(t, pos, keys[i], &o);
		bool multi = o.members ? has_newline(t, o.open, o.close) : parent_multi;
		if (o.found && i + 1 < n && t[o.value] == '{') {
			pos = o.value;
			parent_multi = multi;
			continue;
		}
		json_t *v = nest(keys, i + 1, n, value);
		char *out = NULL;
		if (v && !o.found) {
			out = append_member(t, &o, keys[i], v, multi, st);
		} else if (v) { /* the member is there: its value is replaced */
			_cleanup_free_ char *ind = line_indent(t, o.key);
			struct member_write m = {.value = v, .before = "", .lead = "", .trail = "",
						 .ind = ind, .multi = multi, .st = st};
			out = ind ? splice_text(t, o.value, o.end, write_member, &m) : NULL;
		}
		json_decref(v);
		return out;
	}
	return NULL;
}

/* ------------------------------------------------------------------ the edit */

static const char *string_at(const json_t *root, const char *a, const char *b, const char *c)
{
	const json_t *v = json_object_get(root, a);
	if (b)
		v = json_object_get(v, b);
	if (c)
		v = json_object_get(v, c);
	return json_string_value(v);
}

/* The old document with what the edit sets: the text edit must come to exactly this. */
static int expected_tree(json_t *want, const struct nvb_docker_options *opt)
{
	json_t *runtimes = json_object_get(want, "runtimes");
	if (!runtimes && json_object_set_new(want, "runtimes", runtimes = json_object()) < 0)
		return -1;
	json_t *entry = json_object_get(runtimes, NVB_RUNTIME_NAME);
	if (json_is_object(entry)) {
		if (json_object_set_new(entry, "path", json_string(opt->runtime_path)) < 0)
			return -1;
	} else if (json_object_set_new(runtimes, NVB_RUNTIME_NAME,
				       json_pack("{s:s}", "path", opt->runtime_path)) < 0) {
		return -1;
	}
	if (opt->make_default &&
	    json_object_set_new(want, "default-runtime", json_string(NVB_RUNTIME_NAME)) < 0)
		return -1;
	if (opt->cdi) {
		json_t *features = json_object_get(want, "features");
		if (!features && json_object_set_new(want, "features", features = json_object()) < 0)
			return -1;
		if (json_object_set_new(features, "cdi", json_true()) < 0)
			return -1;
	}
	return 0;
}

/* Apply one text_set to *cur (replaced). */
static int set_path(char **cur, const char *const *keys, size_t n, json_t *value,
		    const struct style *st)
{
	char *next = value ? text_set(*cur, keys, n, value, st) : NULL;
	json_decref(value);
	if (!next)
		return -1;
	free(*cur);
	*cur = next;
	return 0;
}

static json_t *parse_checked(const char *text, const char *origin, struct nvb_error *err)
{
	/* the one daemon.json reader (engines/inspect.c): numbers kept exactly, so 0.1 stays 0.1
	 * and a uint64 ulimit stays; its refusals say here that nothing is rewritten */
	struct nvb_daemon_json d;
	json_t *root = NULL;
	if (nvb_daemon_json_inspect(text, origin, &d, err) == 0)
		root = json_incref(d.root);
	else if (d.error_what)
		nvb_error_set(err, NVB_ERR_INVALID, 0, "fix the file and run the command again",
			      "%s: %s is not a JSON object: refusing to rewrite it", origin,
			      d.error_what);
	else if (d.error_line || d.error_text[0])
		nvb_error_set(err, NVB_ERR_PARSE, 0, "fix the file (or move it away) and run the command again",
			      "%s:%d:%d: %s: refusing to rewrite a file nvbind cannot parse", origin,
			      d.error_line, d.error_column, d.error_text);
	nvb_daemon_json_free(&d);
	return root;
}

char *nvb_docker_edit(const char *text, const char *origin, const struct nvb_docker_options *opt,
		      bool *changed, struct nvb_error *err)
{
	*changed = false;
	nvb_error_clear(err);
	/* no file yet (or only white space): start from an empty object */
	const char *src = !text || strspn(text, " \t\r\n") == strlen(text) ? "{}\n" : text;
	json_t *old = parse_checked(src, origin, err), *want = NULL, *got = NULL;
	if (!old)
		return NULL;
	const char *path = string_at(old, "runtimes", NVB_RUNTIME_NAME, "path");
	const char *def = string_at(old, "default-runtime", NULL, NULL);
	bool need_path = !path || strcmp(path, opt->runtime_path) != 0;
	bool need_default = opt->make_default && (!def || strcmp(def, NVB_RUNTIME_NAME) != 0);
	bool need_cdi = opt->cdi && !json_is_true(json_object_get(json_object_get(old, "features"), "cdi"));
	struct style st;
	learn_style(src, &st);
	static const char *const rt_keys[] = {"runtimes", NVB_RUNTIME_NAME, "path"};
	static const char *const def_keys[] = {"default-runtime"};
	static const char *const cdi_keys[] = {"features", "cdi"};
	char *cur = strdup(src);
	if (!cur || (need_path && set_path(&cur, rt_keys, 3, json_string(opt->runtime_path), &st) < 0) ||
	    (need_default && set_path(&cur, def_keys, 1, json_string(NVB_RUNTIME_NAME), &st) < 0) ||
	    (need_cdi && set_path(&cur, cdi_keys, 2, json_true(), &st) < 0) ||
	    !(want = json_deep_copy(old)) || expected_tree(want, opt) < 0) {
		nvb_error_nomem(err);
		goto fail;
	}
	/* the new text must parse, and be the old document with exactly these members set */
	json_error_t jerr;
	got = nvb_json_loadb_exact(cur, strlen(cur), JSON_REJECT_DUPLICATES, true, &jerr);
	if (!got || !json_equal(got, want)) {
		nvb_error_set(err, NVB_ERR_UNSUPPORTED, 0, "add the runtime by hand",
			      "%s: the layout of this file did not allow an automatic edit", origin);
		goto fail;
	}
	*changed = need_path || need_default || need_cdi;
	json_decref(old);
	json_decref(want);
	json_decref(got);
	return cur;
fail:
	json_decref(old);
	json_decref(want);
	json_decref(got);
	free(cur);
	return NULL;
}

char *nvb_docker_register(const char *text, const char *origin, const char *runtime_path,
			  bool make_default, bool *changed, struct nvb_error *err)
{
	struct nvb_docker_options opt = {.runtime_path = runtime_path, .make_default = make_default};
	return nvb_docker_edit(text, origin, &opt, changed, err);
}

/* ------------------------------------------------------------------ reading and writing */

char *nvb_default_runtime_path(const char *bindir)
{
	return nvb_sibling_program("nvbind-runtime", bindir);
}

int nvb_engine_config_read(const char *path, char **text, unsigned *mode, bool *exists,
			   struct nvb_error *err)
{
	*exists = false;
	*mode = 0644;
	/* never blocks: a FIFO (or a directory, a device) is refused at once */
	struct nvb_error oerr;
	int fd = nvb_open_regular(AT_FDCWD, path, 0, "engine configuration", &oerr);
	if (fd < 0 && oerr.sys_errno == ENOENT) {
		*text = strdup("");
		return *text ? 0 : nvb_error_nomem(err);
	}
	if (fd < 0) {
		*err = oerr;
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) == 0)
		*mode = st.st_mode & 0777;
	*exists = true;
	int r = nvb_read_fd(fd, path, ENGINE_CONFIG_MAX, text, NULL, err);
	close(fd);
	return r;
}

static int backup(const char *path, const char *text, unsigned mode, char **backup_path,
		  struct nvb_error *err)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	*backup_path = nvb_asprintf("%s" BACKUP_TAG "%s", path, stamp);
	/* two edits in one second (setup, then migrate) must not overwrite the first backup */
	for (int i = 1; *backup_path && access(*backup_path, F_OK) == 0 && i < 1000; i++) {
		free(*backup_path);
		*backup_path = nvb_asprintf("%s" BACKUP_TAG "%s-%d", path, stamp, i);
	}
	if (!*backup_path)
		return nvb_error_nomem(err);
	return nvb_write_file_atomic(*backup_path, text, strlen(text), mode, err);
}

int nvb_engine_config_write(const char *path, const char *old_text, const char *new_text,
			    unsigned mode, bool exists, char **backup_path, struct nvb_error *err)
{
	*backup_path = NULL;
	if (exists && backup(path, old_text, mode, backup_path, err) < 0) {
		free(*backup_path);
		*backup_path = NULL;
		return -1;
	}
	char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755); /* /etc/docker may not exist yet */
	}
	free(dir);
	/* through a symbolic link to the file it names, with that file's owner and mode */
	return nvb_write_file_through(path, new_text, strlen(new_text), mode, err);
}

/* ------------------------------------------------------------------ undo */

/* A backup name's tail, "YYYYmmdd-HHMMSS" or "YYYYmmdd-HHMMSS-N": its stamp and N (0 for none),
 * which order the backups of one file. */
static bool backup_suffix(const char *s, char stamp[16], long *n)
{
	for (int k = 0; k < 15; k++)
		if (k == 8 ? s[k] != '-' : (s[k] < '0' || s[k] > '9'))
			return false;
	memcpy(stamp, s, 15);
	stamp[15] = '\0';
	*n = 0;
	if (!s[15])
		return true;
	if (s[15] != '-' || s[16] < '1' || s[16] > '9' || strlen(s + 16) > 6)
		return false;
	char *end;
	*n = strtol(s + 16, &end, 10);
	return !*end;
}

char *nvb_engine_config_latest_backup(const char *path, struct nvb_error *err)
{
	const char *slash = strrchr(path, '/');
	_cleanup_free_ char *dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
	const char *base = slash ? slash + 1 : path;
	_cleanup_free_ char *prefix = nvb_asprintf("%s" BACKUP_TAG, base);
	if (!dir || !prefix) {
		nvb_error_nomem(err);
		return NULL;
	}
	_cleanup_closedir_ DIR *d = nvb_opendirat(AT_FDCWD, *dir ? dir : "/", 0);
	if (!d) {
		nvb_error_errno(err, errno, NULL, "cannot list %s for backups of %s", *dir ? dir : "/", path);
		return NULL;
	}
	_cleanup_free_ char *best = NULL;
	char best_stamp[16] = "", stamp[16];
	long best_n = -1, n;
	size_t plen = strlen(prefix);
	NVB_DIR_FOREACH(e, d) {
		if (strncmp(e->d_name, prefix, plen) || !backup_suffix(e->d_name + plen, stamp, &n))
			continue;
		int c = strcmp(stamp, best_stamp);
		if (best && (c < 0 || (c == 0 && n <= best_n)))
			continue;
		free(best);
		best = strdup(e->d_name);
		memcpy(best_stamp, stamp, sizeof(stamp));
		best_n = n;
		if (!best)
			break;
	}
	if (!best) {
		nvb_error_set(err, NVB_ERR_NOT_FOUND, 0,
			      "nvbind setup saves one before each change it makes; restore the file by "
			      "hand otherwise",
			      "%s: no backup %s" BACKUP_TAG "YYYYmmdd-HHMMSS to restore: nothing to undo",
			      path, path);
		return NULL;
	}
	char *out = nvb_asprintf("%.*s%s", slash ? (int)(slash - path + 1) : 0, path, best);
	if (!out)
		nvb_error_nomem(err);
	return out;
}

int nvb_engine_config_restore(const char *path, const char *backup_path, struct nvb_error *err)
{
	_cleanup_close_ int fd = nvb_open_regular(AT_FDCWD, backup_path, O_NOFOLLOW, "backup", err);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return nvb_error_errno(err, errno, NULL, "cannot read %s", backup_path);
	_cleanup_free_ char *data = NULL;
	size_t len;
	if (nvb_read_fd(fd, backup_path, ENGINE_CONFIG_MAX, &data, &len, err) < 0)
		return -1;
	/* an existing file keeps its owner and mode (a link, its target); a new one gets the
	 * backup's mode */
	return nvb_write_file_through(path, data, len, st.st_mode & 0777, err);
}
