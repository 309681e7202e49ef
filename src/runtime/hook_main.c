/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvbind-hook: the one hook of nvbind's CDI specs. The OCI runtime runs it on the host, as
 * root, with the container state on stdin, before pivot_root: generated specs run it at
 * createRuntime, where it joins the container's mount namespace (cdi/libplan.h says why);
 * specs of earlier versions at createContainer. It is linked statically (no dynamic loader, so
 * LD_PRELOAD and friends from any environment mean nothing) and does its work in one process:
 * SONAME links, extra links, the loader configuration file and /etc/ld.so.cache, every path
 * resolved inside the container root.
 *
 *   nvbind-hook libraries [--stage STAGE] [--lib PATH::SONAME::ARCH]... [--link TARGET::LINK]...
 */
#include "hooks/hooks.h"
#include "oci/oci.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: nvbind-hook libraries [--stage STAGE] [--lib PATH::SONAME::ARCH]...\n"
		     "                             [--link TARGET::LINK]...\n"
		     "\n"
		     "CDI hook: the OCI runtime runs it with the container state on stdin. It links\n"
		     "and registers the driver libraries mounted into the container (SONAME links,\n"
		     "/etc/ld.so.conf.d/" NVB_LDCONF_NAME ", /etc/ld.so.cache) without running any\n"
		     "other program. Every path is resolved inside the container root.\n"
		     "\n"
		     "--stage createRuntime   run by the runtime in its own namespaces: join the\n"
		     "                        container's user and mount namespaces (state pid)\n"
		     "--stage createContainer run in the container's mount namespace (the default)\n");
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "--version")) {
		printf("nvbind-hook %s\n", nvb_version());
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], NVB_HOOK_LIBRARIES) != 0) {
		usage(stderr);
		return 2;
	}
	struct nvb_error err;
	nvb_error_clear(&err);
	struct nvb_libplan plan = {0};
	int rootfd = -1, rc = 0;
	if (nvb_libplan_parse(&plan, argc - 2, argv + 2, &err) < 0 ||
	    (rootfd = nvb_oci_hook_rootfs_open(STDIN_FILENO, plan.stage, &err)) < 0 ||
	    nvb_libplan_apply(rootfd, &plan, &err) < 0) {
		const char *format = getenv("NVBIND_LOG_FORMAT");
		if (format && !strcmp(format, "json")) /* one JSON line (docs/logging.md) */
			nvb_log_write_fields(NVB_LOG_ERROR, "hooks",
					     &(struct nvb_log_fields){.duration_us = -1,
								      .error = nvb_errc_name(err.code)},
					     "%s%s%s", err.message, err.hint[0] ? "; hint: " : "", err.hint);
		else {
			fprintf(stderr, "nvbind-hook: error: %s\n", err.message);
			if (err.hint[0])
				fprintf(stderr, "hint: %s\n", err.hint);
		}
		rc = err.code == NVB_ERR_USAGE ? 2 : 1; /* as nvbind's exit codes */
	}
	if (rootfd >= 0)
		close(rootfd);
	nvb_libplan_clear(&plan);
	/* runc runs createContainer hooks in the container's pid namespace while /proc is still
	 * the host's: leave without exit-time readers of /proc/self (sanitizer builds) */
	fflush(NULL);
	_exit(rc);
}
