/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The driver libraries' plan: which library is mounted where under which SONAME, and which
 * extra links go beside them. The generator writes it as the arguments of the spec's one hook
 * (`nvbind-hook libraries --lib PATH::SONAME::ARCH --link TARGET::LINK`), the wrapper reads it
 * back and keeps what is mounted, and hooks/ carries it out in a container root. Plain data:
 * no I/O here.
 */
#include "cdi/libplan.h"
#include "cdi/cdi.h"
#include "inventory/inventory.h"
#include "probe/nvidia/catalog.h"
#include "host/ldcache_write.h"

void nvb_libplan_clear(struct nvb_libplan *plan)
{
	for (size_t i = 0; i < plan->n_libs; i++) {
		free(plan->libs[i].path);
		free(plan->libs[i].soname);
	}
	for (size_t i = 0; i < plan->n_links; i++) {
		free(plan->links[i].target);
		free(plan->links[i].link);
	}
	free(plan->libs);
	free(plan->links);
	memset(plan, 0, sizeof(*plan));
}

bool nvb_libplan_path_ok(const char *p)
{
	return p[0] == '/' && !strstr(p, "/../") && !nvb_str_has_suffix(p, "/..") &&
	       !strchr(p, '\n') && strlen(p) < NVB_PATH_MAX / 2;
}

bool nvb_libplan_name_ok(const char *s)
{
	return *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '\n') &&
	       strlen(s) < 256;
}

int nvb_libplan_add_lib(struct nvb_libplan *plan, const char *path, const char *soname,
			uint32_t flags, struct nvb_error *err)
{
	if (!nvb_libplan_path_ok(path) || !nvb_libplan_name_ok(soname))
		return nvb_error_set(err, NVB_ERR_USAGE, 0,
				     "use --lib /ABSOLUTE/PATH::SONAME::ARCH (no '..')",
				     "invalid library %s (SONAME %s)", path, soname);
	struct nvb_lib *l = nvb_array_push(&plan->libs, &plan->n_libs, sizeof(*l));
	if (!l || !(l->path = strdup(path)) || !(l->soname = strdup(soname)))
		return nvb_error_nomem(err);
	l->flags = flags;
	return 0;
}

int nvb_libplan_add_link(struct nvb_libplan *plan, const char *target, const char *link,
			 struct nvb_error *err)
{
	if (!*target || strchr(target, '\n') || !nvb_libplan_path_ok(link))
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "use --link TARGET::/ABSOLUTE/LINK",
				     "invalid link %s -> %s", link, target);
	struct nvb_lib_link *l = nvb_array_push(&plan->links, &plan->n_links, sizeof(*l));
	if (!l || !(l->target = strdup(target)) || !(l->link = strdup(link)))
		return nvb_error_nomem(err);
	return 0;
}

/* --lib PATH::SONAME::ARCH */
static int parse_lib(struct nvb_libplan *plan, const char *arg, struct nvb_error *err)
{
	const char *s1 = strstr(arg, "::");
	const char *s2 = s1 ? strstr(s1 + 2, "::") : NULL;
	if (!s1 || !s2)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "use --lib /PATH::SONAME::ARCH",
				     "invalid --lib '%s'", arg);
	_cleanup_free_ char *path = strndup(arg, (size_t)(s1 - arg));
	_cleanup_free_ char *soname = strndup(s1 + 2, (size_t)(s2 - s1 - 2));
	if (!path || !soname)
		return nvb_error_nomem(err);
	uint32_t flags;
	if (nvb_ldcache_arch_flags(s2 + 2, &flags) < 0)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "known: x86-64, i386, AArch64, 64bit",
				     "--lib '%s': unknown architecture '%s'", arg, s2 + 2);
	return nvb_libplan_add_lib(plan, path, soname, flags, err);
}

static int parse_link(struct nvb_libplan *plan, const char *arg, struct nvb_error *err)
{
	const char *sep = strstr(arg, "::");
	if (!sep || sep == arg)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "use --link TARGET::/ABSOLUTE/LINK",
				     "invalid --link '%s'", arg);
	_cleanup_free_ char *target = strndup(arg, (size_t)(sep - arg));
	if (!target)
		return nvb_error_nomem(err);
	return nvb_libplan_add_link(plan, target, sep + 2, err);
}

const char *nvb_hook_stage_name(enum nvb_hook_stage stage)
{
	return stage == NVB_HOOK_CREATE_RUNTIME ? "createRuntime" : "createContainer";
}

static int parse_stage(struct nvb_libplan *plan, const char *arg, struct nvb_error *err)
{
	if (!strcmp(arg, "createRuntime"))
		plan->stage = NVB_HOOK_CREATE_RUNTIME;
	else if (!strcmp(arg, "createContainer"))
		plan->stage = NVB_HOOK_CREATE_CONTAINER;
	else
		return nvb_error_set(err, NVB_ERR_USAGE, 0,
				     "use --stage createRuntime or --stage createContainer, the "
				     "hookName the spec gives this hook",
				     "invalid --stage '%s'", arg);
	return 0;
}

int nvb_libplan_parse(struct nvb_libplan *plan, int argc, char *const *argv, struct nvb_error *err)
{
	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i];
		bool lib = !strcmp(opt, "--lib"), link = !strcmp(opt, "--link"),
		     stage = !strcmp(opt, "--stage");
		if (!lib && !link && !stage)
			return nvb_error_set(err, NVB_ERR_USAGE, 0,
					     "options: --stage STAGE, --lib PATH::SONAME::ARCH, "
					     "--link TARGET::LINK",
					     "unknown argument '%s'", opt);
		if (i + 1 >= argc)
			return nvb_error_set(err, NVB_ERR_USAGE, 0, NULL, "%s needs a value", opt);
		const char *value = argv[++i];
		if ((stage ? parse_stage(plan, value, err)
			   : lib ? parse_lib(plan, value, err) : parse_link(plan, value, err)) < 0)
			return -1;
	}
	return 0;
}

static const char *arch_name(uint32_t flags)
{
	switch (flags & NVB_LDCACHE_ARCH_MASK) {
	case NVB_LDCACHE_ARCH_X86_64:
		return "x86-64";
	case NVB_LDCACHE_ARCH_AARCH64:
		return "AArch64";
	case 0x0500u:
		return "64bit";
	default:
		return "i386";
	}
}

static int push_owned(char ***args, size_t *n, char *s, struct nvb_error *err)
{
	char **slot = s ? nvb_array_push(args, n, sizeof(char *)) : NULL;
	if (!slot) {
		free(s);
		return nvb_error_nomem(err);
	}
	*slot = s;
	return 0;
}

int nvb_libplan_args(const struct nvb_libplan *plan, char ***args, size_t *n, struct nvb_error *err)
{
	if (plan->stage != NVB_HOOK_CREATE_CONTAINER &&
	    (push_owned(args, n, strdup("--stage"), err) < 0 ||
	     push_owned(args, n, strdup(nvb_hook_stage_name(plan->stage)), err) < 0))
		return -1;
	for (size_t i = 0; i < plan->n_libs; i++) {
		const struct nvb_lib *l = &plan->libs[i];
		if (push_owned(args, n, strdup("--lib"), err) < 0 ||
		    push_owned(args, n, nvb_asprintf("%s::%s::%s", l->path, l->soname, arch_name(l->flags)),
			       err) < 0)
			return -1;
	}
	for (size_t i = 0; i < plan->n_links; i++) {
		const struct nvb_lib_link *l = &plan->links[i];
		if (push_owned(args, n, strdup("--link"), err) < 0 ||
		    push_owned(args, n, nvb_asprintf("%s::%s", l->target, l->link), err) < 0)
			return -1;
	}
	return 0;
}

/* An explicit, non-empty environment for the hook (CVE-2025-23266: an empty env let the
 * container's LD_PRELOAD reach a hook running on the host). */
static const char *const hook_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
				       "NVBIND_HOOK=1"};

int nvb_libplan_hook(const struct nvb_libplan *plan, const char *path, struct nvb_cdi_hook *h,
		     struct nvb_error *err)
{
	h->timeout = NVB_CDI_UNSET; /* none: runc reads an explicit 0 as "already too late" */
	if (!(h->hook_name = strdup(nvb_hook_stage_name(plan->stage))) || !(h->path = strdup(path)) ||
	    push_owned(&h->args, &h->n_args, strdup(NVB_HOOK_PROGRAM), err) < 0 ||
	    push_owned(&h->args, &h->n_args, strdup(NVB_HOOK_LIBRARIES), err) < 0)
		return nvb_error_nomem(err);
	for (size_t i = 0; i < NVB_ARRAY_SIZE(hook_env); i++)
		if (push_owned(&h->env, &h->n_env, strdup(hook_env[i]), err) < 0)
			return -1;
	return nvb_libplan_args(plan, &h->args, &h->n_args, err);
}

/* ------------------------------------------------------------------ filtering */

bool nvb_libplan_in_folder(const char *path)
{
	return nvb_str_has_prefix(path, NVB_FOLDER_CONTAINER_DIR "/");
}

size_t nvb_libplan_dir_len(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? (size_t)(slash - path) : 0;
}

/* Reachable through a mount: mounted at that very path, or inside a mounted folder (the
 * driver folder). */
static bool is_mounted(const char *path, char *const *mounted, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(mounted[i]);
		if (!strncmp(mounted[i], path, len) && (path[len] == '\0' || path[len] == '/'))
			return true;
	}
	return false;
}

/* Wanted by the container's capabilities, as the mounts are filtered (caps 0: everything). */
static bool caps_wanted(const char *path, unsigned caps)
{
	return !caps || nvb_catalog_path_wanted(path, caps);
}

/* Does the link point at a kept library: its file or its SONAME link? */
static bool link_target_kept(const struct nvb_libplan *plan, const struct nvb_lib_link *k)
{
	size_t kdir = nvb_libplan_dir_len(k->link);
	for (size_t i = 0; i < plan->n_libs; i++) {
		const struct nvb_lib *l = &plan->libs[i];
		size_t ldir = nvb_libplan_dir_len(l->path);
		const char *base = l->path + ldir + 1;
		if (k->target[0] == '/') {
			if (!strcmp(k->target, l->path) ||
			    (!strncmp(k->target, l->path, ldir + 1) && !strcmp(k->target + ldir + 1, l->soname)))
				return true;
		} else if (kdir == ldir && !strncmp(k->link, l->path, ldir) &&
			   (!strcmp(k->target, base) || !strcmp(k->target, l->soname))) {
			return true;
		}
	}
	return false;
}

void nvb_libplan_keep_mounted(struct nvb_libplan *plan, char *const *mounted, size_t n_mounted,
			      unsigned caps)
{
	caps = caps ? nvb_caps_expand(caps) : 0;
	size_t w = 0;
	for (size_t i = 0; i < plan->n_libs; i++) {
		if (is_mounted(plan->libs[i].path, mounted, n_mounted) &&
		    caps_wanted(plan->libs[i].path, caps)) {
			plan->libs[w++] = plan->libs[i];
		} else {
			free(plan->libs[i].path);
			free(plan->libs[i].soname);
		}
	}
	plan->n_libs = w;
	w = 0;
	for (size_t i = 0; i < plan->n_links; i++) {
		const struct nvb_lib_link *k = &plan->links[i];
		/* a link to a kept library, or a link at a program's (a file's) place pointing into
		 * a mounted folder */
		bool keep = link_target_kept(plan, k) ||
			    (k->target[0] == '/' && is_mounted(k->target, mounted, n_mounted) &&
			     caps_wanted(k->link, caps));
		if (keep) {
			plan->links[w++] = plan->links[i];
		} else {
			free(plan->links[i].target);
			free(plan->links[i].link);
		}
	}
	plan->n_links = w;
}
