/* SPDX-License-Identifier: Apache-2.0 */
/*
 * containers.conf edits. The file is the user's: comments and layout stay, lines are replaced
 * or inserted, and the result is parsed again before it is returned.
 */
#include <ctype.h>

#include "engines/engines.h"
#include "format/toml.h"

/* The newline the file uses: a CRLF file gets CRLF lines. */
static const char *newline_of(const char *text)
{
	return strstr(text, "\r\n") ? "\r\n" : "\n";
}

/* Index just past a one-line TOML string at s[i] ('"' or '\''), or at the end of the line. */
static size_t skip_quoted(const char *s, size_t i)
{
	char q = s[i];
	for (i++; s[i] && s[i] != '\n' && s[i] != q; i++)
		if (q == '"' && s[i] == '\\' && s[i + 1] && s[i + 1] != '\n')
			i++;
	return s[i] == q ? i + 1 : i;
}

/* In the line at p (a one-line "key = value  # comment"), where the value starts and ends:
 * the key as written (dotted, quoted, indented), the spacing and the comment stay. */
static bool value_span(const char *p, size_t *start, size_t *end)
{
	size_t i = 0;
	while (p[i] && p[i] != '\n' && p[i] != '=')
		i = p[i] == '"' || p[i] == '\'' ? skip_quoted(p, i) : i + 1;
	if (p[i] != '=')
		return false;
	i++;
	while (p[i] == ' ' || p[i] == '\t')
		i++;
	*start = i;
	size_t last = i;
	while (p[i] && p[i] != '\n' && p[i] != '\r' && p[i] != '#') {
		i = p[i] == '"' || p[i] == '\'' ? skip_quoted(p, i) : i + 1;
		if (p[i - 1] != ' ' && p[i - 1] != '\t')
			last = i;
	}
	*end = last;
	return true;
}

/* Replace the value on line number `line` (1-based) with value_text, keeping the rest. */
static char *replace_value(const char *text, int line, const char *value_text)
{
	const char *p = text;
	for (int l = 1; l < line && *p; l++) {
		const char *nl = strchr(p, '\n');
		p = nl ? nl + 1 : p + strlen(p);
	}
	size_t start, end;
	if (!value_span(p, &start, &end))
		return NULL;
	size_t head = (size_t)(p - text) + start;
	return nvb_asprintf("%.*s%s%s", (int)head, text, value_text, p + end);
}

/* Insert `repl` as a line after line number `line` (1-based; 0: at the start). */
static char *insert_line(const char *text, int line, const char *repl)
{
	const char *p = text;
	for (int l = 1; l < line + 1 && *p; l++) {
		const char *nl = strchr(p, '\n');
		p = nl ? nl + 1 : p + strlen(p);
	}
	size_t head = (size_t)(p - text);
	const char *nl = newline_of(text);
	bool need_nl = head > 0 && text[head - 1] != '\n';
	return nvb_asprintf("%.*s%s%s%s%s", (int)head, text, need_nl ? nl : "", repl, nl, p);
}

/* The line of a "[name]" header, 0 when the table has no header of its own. */
static int header_line(const char *text, const char *name)
{
	int line = 1;
	for (const char *p = text; *p; line++) {
		const char *q = p;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '[' && q[1] != '[') {
			q++;
			char buf[128];
			size_t n = 0;
			for (; *q && *q != ']' && *q != '\n' && n + 1 < sizeof(buf); q++)
				if (!isspace((unsigned char)*q))
					buf[n++] = *q;
			buf[n] = '\0';
			if (*q == ']' && !strcmp(buf, name))
				return line;
		}
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}

static int key_line(const struct nvb_toml_value *table, const char *key)
{
	for (size_t i = 0; table && i < table->n; i++)
		if (!strcmp(table->keys[i], key))
			return table->key_lines[i];
	return 0;
}

/* Set key = value in table `table_name` ("engine", "engine.runtimes"): replace the key's line,
 * or insert after the table's header, or append a new header at the end. */
static char *set_key(const char *text, const char *origin, const char *table_name,
		     const char *key, const char *value_text, struct nvb_error *err)
{
	struct nvb_toml_value *root = nvb_toml_parse(text, strlen(text), origin, err);
	if (!root)
		return NULL;
	const struct nvb_toml_value *table = root;
	_cleanup_free_ char *path = strdup(table_name);
	char *save = NULL;
	for (char *part = path ? strtok_r(path, ".", &save) : NULL; part && table;
	     part = strtok_r(NULL, ".", &save))
		table = nvb_toml_get(table, part);
	_cleanup_free_ char *line = nvb_asprintf("%s = %s", key, value_text);
	char *out = NULL;
	int kl = key_line(table, key);
	const struct nvb_toml_value *old = nvb_toml_get(table, key);
	if (!line) {
		nvb_error_nomem(err);
	} else if (table && table->type != NVB_TOML_TABLE) {
		nvb_error_set(err, NVB_ERR_INVALID, 0, NULL, "%s: %s is not a table", origin, table_name);
	} else if (kl && old && (old->line != kl || (old->type == NVB_TOML_ARRAY && old->n &&
						      old->items[old->n - 1]->line != kl))) {
		nvb_error_set(err, NVB_ERR_UNSUPPORTED, 0, "set it by hand",
			      "%s:%d: %s.%s spans several lines; nvbind edits only one-line values",
			      origin, kl, table_name, key);
	} else if (kl) {
		out = replace_value(text, kl, value_text);
		if (!out)
			nvb_error_set(err, NVB_ERR_UNSUPPORTED, 0, "set it by hand",
				      "%s:%d: %s.%s: nvbind cannot find the value on this line", origin,
				      kl, table_name, key);
	} else if (header_line(text, table_name)) {
		out = insert_line(text, header_line(text, table_name), line);
	} else {
		const char *nl = newline_of(text);
		bool end_nl = *text && text[strlen(text) - 1] != '\n';
		out = nvb_asprintf("%s%s%s[%s]%s%s%s", text, end_nl ? nl : "", *text ? nl : "",
				   table_name, nl, line, nl);
	}
	nvb_toml_free(root);
	if (!out && !err->message[0])
		nvb_error_nomem(err);
	return out;
}

static bool has_runtime(const struct nvb_toml_value *root, const char *runtime_path)
{
	const struct nvb_toml_value *rt =
		nvb_toml_get(nvb_toml_get(nvb_toml_get(root, "engine"), "runtimes"), NVB_RUNTIME_NAME);
	return rt && rt->type == NVB_TOML_ARRAY && rt->n >= 1 &&
	       rt->items[0]->type == NVB_TOML_STRING && !strcmp(rt->items[0]->v.s, runtime_path);
}

static bool is_default(const struct nvb_toml_value *root)
{
	const struct nvb_toml_value *r = nvb_toml_get(nvb_toml_get(root, "engine"), "runtime");
	return r && r->type == NVB_TOML_STRING && !strcmp(r->v.s, NVB_RUNTIME_NAME);
}

char *nvb_podman_register(const char *text, const char *origin, const char *runtime_path,
			  bool make_default, bool *changed, struct nvb_error *err)
{
	*changed = false;
	nvb_error_clear(err);
	char *cur = strdup(text ? text : "");
	if (!cur) {
		nvb_error_nomem(err);
		return NULL;
	}
	struct nvb_toml_value *root = nvb_toml_parse(cur, strlen(cur), origin, err);
	if (!root) {
		nvb_error_prefix(err, "refusing to rewrite a file nvbind cannot parse");
		free(cur);
		return NULL;
	}
	bool need_runtime = !has_runtime(root, runtime_path);
	bool need_default = make_default && !is_default(root);
	nvb_toml_free(root);
	if (need_runtime) {
		_cleanup_free_ char *q = nvb_toml_quote(runtime_path);
		_cleanup_free_ char *value = q ? nvb_asprintf("[%s]", q) : NULL;
		char *next = value ? set_key(cur, origin, "engine.runtimes", NVB_RUNTIME_NAME, value, err)
				   : NULL;
		free(cur);
		if (!(cur = next))
			return NULL;
	}
	if (need_default) {
		char *next = set_key(cur, origin, "engine", "runtime", "\"" NVB_RUNTIME_NAME "\"", err);
		free(cur);
		if (!(cur = next))
			return NULL;
	}
	/* the edited file must parse and say what was asked */
	root = nvb_toml_parse(cur, strlen(cur), origin, err);
	if (!root || !has_runtime(root, runtime_path) || (make_default && !is_default(root))) {
		if (root)
			nvb_error_set(err, NVB_ERR_UNSUPPORTED, 0, "add the runtime by hand",
				      "%s: the layout of this file did not allow an automatic edit", origin);
		else
			nvb_error_prefix(err, "the edit would break the file; add the runtime by hand");
		nvb_toml_free(root);
		free(cur);
		return NULL;
	}
	nvb_toml_free(root);
	*changed = need_runtime || need_default;
	return cur;
}
