/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config's paths the suites did not run (tools/coverage.sh, docs/testing.md "Coverage"): the
 * search order of the configuration file (XDG_CONFIG_HOME, HOME, the file inside another
 * --root and reading it again when the root changes), the --root rule's dangling links and
 * missing tails, and nvb_mkdir_parents' failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/nvb-covcfg-XXXXXX");
	assert_non_null(mkdtemp(dir));
	unsetenv("NVBIND_CONFIG");
	unsetenv("NVBIND_ROOT");
	unsetenv("NVBIND_LOG_LEVEL");
	unsetenv("XDG_CONFIG_HOME");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	unsetenv("NVBIND_ROOT");
	unsetenv("XDG_CONFIG_HOME");
	return 0;
}

static char *at(const char *name)
{
	static char path[4][256];
	static int next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	return p;
}

static void put(const char *name, const char *text)
{
	struct nvb_error err = {0};
	assert_int_equal(nvb_mkdir_parents(at(name), &err), 0);
	FILE *f = fopen(at(name), "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* --config, then NVBIND_CONFIG (both must exist), then the user's file by the XDG rule (a
 * relative XDG_CONFIG_HOME is ignored for HOME's), then /etc/nvbind/config.toml. */
static void test_find_order(void **state)
{
	(void)state;
	bool must = false;
	char *p = nvb_config_find("/x/given.toml", &must);
	assert_string_equal(p, "/x/given.toml");
	assert_true(must);
	free(p);

	setenv("NVBIND_CONFIG", "/x/env.toml", 1);
	p = nvb_config_find(NULL, &must);
	assert_string_equal(p, "/x/env.toml");
	assert_true(must);
	free(p);
	unsetenv("NVBIND_CONFIG");

	put("xdg/nvbind/config.toml", "");
	setenv("XDG_CONFIG_HOME", at("xdg"), 1);
	p = nvb_config_find(NULL, &must);
	assert_string_equal(p, at("xdg/nvbind/config.toml"));
	assert_false(must);
	free(p);

	const char *home = getenv("HOME");
	char *saved_home = home ? strdup(home) : NULL;
	put("home/.config/nvbind/config.toml", "");
	setenv("HOME", at("home"), 1);
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);
	p = nvb_config_find(NULL, &must);
	assert_string_equal(p, at("home/.config/nvbind/config.toml"));
	free(p);

	/* neither gives a file that exists: the system file */
	setenv("HOME", "not-absolute", 1);
	p = nvb_config_find(NULL, &must);
	assert_string_equal(p, NVB_CONFIG_SYSTEM_PATH);
	assert_false(must);
	free(p);
	if (saved_home)
		setenv("HOME", saved_home, 1);
	free(saved_home);
	unsetenv("XDG_CONFIG_HOME");
}

/* With NVBIND_ROOT, the default file is read inside that root; setting host.root to another
 * root reads that root's file instead (and keeps the new root); an unknown key and a bad value
 * name the key and the source. */
static void test_file_inside_root(void **state)
{
	(void)state;
	put("a/etc/nvbind/config.toml", "[runtime]\nengine = \"docker\"\n");
	put("b/etc/nvbind/config.toml", "[runtime]\nengine = \"bolt\"\n");
	const char *home = getenv("HOME");
	char *saved_home = home ? strdup(home) : NULL;
	setenv("HOME", at("nohome"), 1);
	setenv("NVBIND_ROOT", at("a"), 1);
	struct nvb_error err = {0};
	struct nvb_config *c = nvb_config_load(NULL, &err);
	if (!c)
		fail_msg("%s", err.message);
	assert_string_equal(c->engine, "docker");
	assert_non_null(strstr(c->path, "/a/etc/nvbind/config.toml"));
	assert_string_equal(c->root, at("a"));

	assert_int_equal(nvb_config_set(c, "host.root", at("b"), "--root", &err), 0);
	assert_string_equal(c->engine, "bolt");
	assert_string_equal(c->root, at("b"));
	assert_non_null(strstr(c->path, "/b/etc/nvbind/config.toml"));

	/* a root without the file: defaults */
	assert_int_equal(mkdir(at("c"), 0755), 0);
	assert_int_equal(nvb_config_set(c, "host.root", at("c"), "--root", &err), 0);
	assert_string_equal(c->engine, "podman");
	assert_null(c->path);

	assert_int_equal(nvb_config_set(c, "runtime.engin", "docker", "--set", &err), -1);
	assert_int_equal(err.code, NVB_ERR_USAGE);
	assert_non_null(strstr(err.message, "unknown configuration key 'runtime.engin'"));
	assert_int_equal(nvb_config_set(c, "runtime.engine", "lxc", "--engine", &err), -1);
	assert_non_null(strstr(err.message, "--engine (runtime.engine): \"lxc\""));
	nvb_config_free(c);

	/* a root that does not exist fails the load, naming it */
	setenv("NVBIND_ROOT", at("absent"), 1);
	assert_null(nvb_config_load(NULL, &err));
	assert_non_null(strstr(err.message, "host root"));
	assert_non_null(strstr(err.message, "absent"));
	unsetenv("NVBIND_ROOT");
	if (saved_home)
		setenv("HOME", saved_home, 1);
	free(saved_home);
}

/* The --root rule: the existing part of a path is resolved inside the root and the missing
 * rest kept; a link that leads nowhere inside the root is refused naming it; "/" and relative
 * paths are left as they are. */
static void test_root_path(void **state)
{
	(void)state;
	struct nvb_error err = {0};
	put("r/etc/real/file", "x");
	assert_int_equal(symlink("/etc/real", at("r/etc/alias")), 0);
	assert_int_equal(symlink("/nowhere/at/all", at("r/etc/dangling")), 0);

	char *p = nvb_root_path(at("r"), "/etc/alias/new/file.json", &err);
	assert_non_null(p);
	assert_string_equal(p, at("r/etc/real/new/file.json"));
	free(p);

	p = nvb_root_path(at("r"), "/missing/deeper/x", &err);
	assert_string_equal(p, at("r/missing/deeper/x"));
	free(p);

	assert_null(nvb_root_path(at("r"), "/etc/dangling/x.json", &err));
	assert_int_equal(err.code, NVB_ERR_INVALID);
	assert_non_null(strstr(err.message, "dangling is a symbolic link that leads nowhere"));
	assert_non_null(strstr(err.hint, "create its target inside the root"));

	p = nvb_root_path("/", "/etc/cdi", &err);
	assert_string_equal(p, "/etc/cdi");
	free(p);
	p = nvb_root_path(at("r"), "relative/x", &err);
	assert_string_equal(p, "relative/x");
	free(p);
	assert_null(nvb_root_path(at("gone"), "/etc/x", &err));
	assert_int_equal(err.sys_errno, ENOENT);
	assert_non_null(strstr(err.hint, "--root"));

	assert_string_equal(nvb_config_cli_root("/given"), "/given");
	setenv("NVBIND_ROOT", "/env-root", 1);
	assert_string_equal(nvb_config_cli_root(""), "/env-root");
	unsetenv("NVBIND_ROOT");
	assert_string_equal(nvb_config_cli_root(NULL), "/");

	enum nvb_engine_id id;
	assert_int_equal(nvb_engine_parse("bolt", &id), 0);
	assert_int_equal(id, NVB_ENGINE_BOLT);
	assert_int_equal(nvb_engine_parse("Docker", &id), -1);
}

/* mkdir -p for a file's directory: created 0755 whatever the umask; a regular file in the way
 * fails naming the directory and the file. */
static void test_mkdir_parents(void **state)
{
	(void)state;
	struct nvb_error err = {0};
	mode_t old = umask(077);
	assert_int_equal(nvb_mkdir_parents(at("p/q/r/spec.json"), &err), 0);
	umask(old);
	struct stat st;
	assert_int_equal(stat(at("p/q/r"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	assert_int_equal(nvb_mkdir_parents("spec.json", &err), 0);
	assert_int_equal(nvb_mkdir_parents("/spec.json", &err), 0);

	put("plain", "x");
	assert_int_equal(nvb_mkdir_parents(at("plain/sub/spec.json"), &err), -1);
	assert_int_equal(err.sys_errno, ENOTDIR);
	assert_non_null(strstr(err.message, "cannot create the directory"));
	assert_non_null(strstr(err.message, "plain/sub for"));

	assert_int_equal(nvb_mkdir_parents(at("plain/spec.json"), &err), -1);
	assert_int_equal(err.code, NVB_ERR_INVALID);
	assert_non_null(strstr(err.message, "plain is not a directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_find_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_inside_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_parents, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
