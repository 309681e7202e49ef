/* SPDX-License-Identifier: Apache-2.0 */
/* doctor: what the checks share: paths as the user sees them, fix commands, stat through the
 * host root. Host files are read through the host root only; CDI hostPaths that already point
 * into the root (specs generated with --root) are checked as the real paths they are. */
#include "doctor/checks.h"

#include "config/config.h"

static bool root_is_slash(const struct nvb_doctor_ctx *ctx)
{
	return strcmp(nvb_host_root(ctx->host), "/") == 0;
}

/* A host path as the user sees it: the root's prefix plus the path (the path itself for /). */
char *nvb_doctor_shown(const struct nvb_doctor_ctx *ctx, const char *inside)
{
	return nvb_host_outside_path(ctx->host, inside);
}

/* "nvbind " or "nvbind --root ROOT ", for fix commands. */
char *nvb_doctor_nvbind_cmd(const struct nvb_doctor_ctx *ctx)
{
	if (root_is_slash(ctx))
		return strdup("nvbind ");
	return nvb_asprintf("nvbind --root %s ", nvb_host_root(ctx->host));
}

/* Fix commands do exactly what they say when run as printed: they carry --root, since with it
 * every default path is inside the root (docs/cli.md, "--root"), and name a path explicitly
 * only where the default would be another file. */

static bool in_spec_dirs(const struct nvb_config *cfg, const char *dir, size_t len)
{
	for (size_t i = 0; i < cfg->n_spec_dirs; i++)
		if (strlen(cfg->spec_dirs[i]) == len && strncmp(cfg->spec_dirs[i], dir, len) == 0)
			return true;
	return false;
}

/* Whether 'cdi generate' without --output writes into a spec directory, under a name the
 * engines read: cdi.output is a spec directory, or a .json / .yaml file in one. */
bool nvb_doctor_default_output_is_found(const struct nvb_config *cfg)
{
	const char *out = cfg->cdi_output;
	if (!out || out[0] != '/')
		return false; /* stdout, or relative to wherever the command runs */
	if (in_spec_dirs(cfg, out, strlen(out)))
		return true;
	const char *slash = strrchr(out, '/');
	return (nvb_str_has_suffix(out, ".json") || nvb_str_has_suffix(out, ".yaml")) &&
	       in_spec_dirs(cfg, out, slash == out ? 1 : (size_t)(slash - out));
}

/* The command that writes the spec where the engines (and this check) find it. */
char *nvb_doctor_generate_cmd(struct nvb_doctor_ctx *ctx)
{
	const struct nvb_config *cfg = ctx->cfg;
	_cleanup_free_ char *cmd = nvb_doctor_nvbind_cmd(ctx);
	if (!cmd)
		return NULL;
	if (nvb_doctor_default_output_is_found(cfg) || cfg->n_spec_dirs == 0)
		return nvb_asprintf("%scdi generate", cmd);
	_cleanup_free_ char *dir = nvb_doctor_shown(ctx, cfg->spec_dirs[0]);
	_cleanup_free_ char *base =
	    strdup(cfg->cdi_kind && cfg->cdi_kind[0] ? cfg->cdi_kind : NVB_DOCTOR_DEFAULT_KIND);
	char *slash = base ? strchr(base, '/') : NULL;
	if (!dir || !slash)
		return NULL;
	*slash = '-';
	return nvb_asprintf("%scdi generate --output %s/%s.json", cmd, dir, base);
}

/* stat a path inside the host root (following links inside it). */
static bool host_stat(struct nvb_doctor_ctx *ctx, const char *path, struct stat *st)
{
	struct nvb_error ignored;
	_cleanup_close_ int fd = nvb_host_resolve(ctx->host, path, 0, NULL, &ignored);
	return fd >= 0 && fstat(fd, st) == 0;
}

bool nvb_doctor_host_exists(struct nvb_doctor_ctx *ctx, const char *path)
{
	struct stat st;
	return host_stat(ctx, path, &st);
}

/* A path named by a CDI spec or an engine's configuration. Under the root / it is the real
 * path; a path that starts with the root's own path was written for this root (cdi generate
 * --root) and is real too; any other is looked up inside the root, and, when real_fallback,
 * as a real path as well (executables such as the hook or the runtime live outside fixture
 * roots). */
bool nvb_doctor_named_path_stat(struct nvb_doctor_ctx *ctx, const char *path, bool real_fallback,
				struct stat *st)
{
	const char *root = nvb_host_root(ctx->host);
	size_t rl = strlen(root);
	if (!path || path[0] != '/')
		return false;
	if (root_is_slash(ctx) || (strncmp(path, root, rl) == 0 && path[rl] == '/'))
		return stat(path, st) == 0;
	if (host_stat(ctx, path, st))
		return true;
	return real_fallback && stat(path, st) == 0;
}

bool nvb_doctor_colon_field(const char *line, int field, char *out, size_t cap)
{
	for (int i = 0; i < field; i++) {
		line = strchr(line, ':');
		if (!line)
			return false;
		line++;
	}
	size_t len = strcspn(line, ":\n");
	if (len >= cap)
		return false;
	memcpy(out, line, len);
	out[len] = '\0';
	return true;
}

bool nvb_doctor_group(struct nvb_doctor_ctx *ctx, unsigned long gid, const char *user, char *name,
		      size_t cap, bool *member)
{
	_cleanup_free_ char *text = NULL;
	struct nvb_error ignored;
	snprintf(name, cap, "%lu", gid);
	*member = false;
	if (nvb_host_read(ctx->host, "/etc/group", NVB_DOCTOR_SMALL_MAX, &text, NULL, &ignored) < 0)
		return false;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char num[24], found[64], members[2048];
		if (line[0] == '#' || !nvb_doctor_colon_field(line, 2, num, sizeof(num)) ||
		    strtoul(num, NULL, 10) != gid || !nvb_doctor_colon_field(line, 0, found, sizeof(found)))
			continue;
		snprintf(name, cap, "%s", found);
		if (user && nvb_doctor_colon_field(line, 3, members, sizeof(members))) {
			char *msave = NULL;
			for (char *m = strtok_r(members, ",", &msave); m; m = strtok_r(NULL, ",", &msave))
				*member = *member || !strcmp(nvb_strstrip(m), user);
		}
		return true;
	}
	return false;
}
