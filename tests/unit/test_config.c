/* SPDX-License-Identifier: Apache-2.0 */
/* The configuration schema: defaults, sources, unknown keys, wrong types, profiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config/config.h"

static char path[256];

static void write_config(const char *text)
{
	snprintf(path, sizeof(path), "/tmp/nvb-config-%d.toml", (int)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct nvb_config *load(const char *text, struct nvb_error *err)
{
	write_config(text);
	struct nvb_config *c = nvb_config_load(path, err);
	unlink(path);
	return c;
}

static void test_defaults(void **state)
{
	struct nvb_error err;
	unsetenv("NVBIND_ROOT");
	unsetenv("NVBIND_LOG_LEVEL");
	struct nvb_config *c = load("", &err);
	assert_non_null(c);
	assert_string_equal(c->root, "/");
	assert_int_equal(c->n_spec_dirs, 2);
	assert_string_equal(c->spec_dirs[0], "/etc/cdi");
	assert_string_equal(c->spec_dirs[1], "/var/run/cdi");
	assert_string_equal(c->engine, "podman");
	assert_string_equal(c->capabilities, "compute,utility");
	assert_string_equal(c->cdi_naming, "index,uuid");
	assert_true(c->env_when_unprivileged);
	assert_int_equal(c->n_allowed_devices, 0);
	assert_non_null(nvb_config_profile(c, "gaming"));
	assert_non_null(nvb_config_profile(c, "ai-ml"));
	assert_non_null(nvb_config_profile(c, "video"));
	assert_non_null(nvb_config_profile(c, "compute"));
	char *shown = nvb_config_show(c);
	assert_non_null(strstr(shown, "root = \"/\"  # default"));
	free(shown);
	nvb_config_free(c);
	(void)state;
}

static void test_values_and_sources(void **state)
{
	struct nvb_error err;
	struct nvb_config *c = load("# comment\n[host]\nroot = \"/srv/root\"\nspec_dirs = [\"/a\", \"/b\"]\n"
				    "[cdi]\nnaming = [\"uuid\", \"type-index\"]\nformat = \"yaml\"\n"
				    "[security]\nenv_requests_unprivileged = false\n"
				    "allowed_devices = [\"nvidia.com/gpu=0\"]\n"
				    "[engines]\npodman = [\"podman\", \"--root\", \"/x\"]\n",
				    &err);
	if (!c)
		fail_msg("%s", err.message);
	assert_string_equal(c->root, "/srv/root");
	assert_int_equal(c->n_spec_dirs, 2);
	assert_string_equal(c->spec_dirs[1], "/b");
	assert_string_equal(c->cdi_naming, "uuid,type-index");
	assert_false(c->env_when_unprivileged);
	assert_string_equal(c->allowed_devices[0], "nvidia.com/gpu=0");
	assert_int_equal(c->n_engine_cmd[NVB_ENGINE_PODMAN], 3);
	char *shown = nvb_config_show(c);
	assert_non_null(strstr(shown, "root = \"/srv/root\"  # /tmp/nvb-config-"));
	assert_non_null(strstr(shown, ".toml:3"));
	free(shown);
	/* flags and the environment win, and say so */
	assert_int_equal(nvb_config_set(c, "host.root", "/other", "--root", &err), 0);
	shown = nvb_config_show(c);
	assert_non_null(strstr(shown, "root = \"/other\"  # --root"));
	free(shown);
	nvb_config_free(c);
	setenv("NVBIND_ROOT", "/from-env", 1);
	c = load("[host]\nroot = \"/srv/root\"\n", &err);
	assert_string_equal(c->root, "/from-env");
	unsetenv("NVBIND_ROOT");
	nvb_config_free(c);
	(void)state;
}

static void expect_error(const char *text, const char *where, const char *what, const char *hint)
{
	struct nvb_error err;
	struct nvb_config *c = load(text, &err);
	if (c)
		fail_msg("accepted: %s", text);
	if (!strstr(err.message, where) || !strstr(err.message, what))
		fail_msg("message '%s' lacks '%s' / '%s'", err.message, where, what);
	if (hint && !strstr(err.hint, hint))
		fail_msg("hint '%s' lacks '%s'", err.hint, hint);
}

static void test_errors(void **state)
{
	expect_error("[host]\nrot = \"/\"\n", ".toml:2:1:", "unknown key 'host.rot'", "did you mean 'host.root'?");
	expect_error("[hots]\nroot = \"/\"\n", ".toml:1:", "unknown section [hots]", "did you mean [host]?");
	expect_error("[cdi]\nnamin = []\n", ":2:1:", "unknown key 'cdi.namin'", "'cdi.naming'");
	expect_error("[host]\nroot = 1\n", ":2:8:", "host.root must be a string, not a integer", NULL);
	expect_error("[security]\nenv_requests_unprivileged = \"yes\"\n", ":2:",
		     "must be a boolean (true or false), not a string", NULL);
	expect_error("[host]\nspec_dirs = [\"etc/cdi\"]\n", ":2:", "must be an absolute path", NULL);
	expect_error("[host]\nspec_dirs = [1]\n", ":2:", "must be an array of strings, not of integer", NULL);
	expect_error("[host]\nroot = \"relative\"\n", ":2:", "must be an absolute path", NULL);
	expect_error("[runtime]\nengine = \"lxc\"\n", ":2:", "must be one of \"podman\", \"docker\", \"bolt\"", NULL);
	expect_error("[gpu]\ncapabilities = \"compute,gaming\"\n", ":2:", "unknown driver capability 'gaming'", NULL);
	expect_error("[cdi]\nnaming = [\"serial\"]\n", ":2:", "unknown device name strategy 'serial'", NULL);
	expect_error("[log]\nlevel = \"loud\"\n", ":2:", "must be one of \"error\"", NULL);
	expect_error("[profiles.x]\ncapabilties = \"compute\"\n", ":2:1:", "unknown key 'profiles.x.capabilties'", "'capabilities'");
	expect_error("[profiles.x]\nenv = { A = 1 }\n", ":2:", "profiles.x.env.A must be a string", NULL);
	expect_error("[profiles.x]\nenv = [\"NOEQ\"]\n", ":2:", "is not NAME=VALUE", NULL);
	expect_error("[host\nroot = 1\n", ":1:", "", NULL); /* TOML syntax: line and column */
	expect_error("host = 3\n", ":1:", "host must be a table", NULL);
	(void)state;
}

static void test_profiles(void **state)
{
	struct nvb_error err;
	struct nvb_config *c = load("[profiles.render]\ndescription = \"offline\"\ncapabilities = \"graphics,compute\"\n"
				    "devices = \"0\"\nenv = { __GL_SHADER_DISK_CACHE = \"1\" }\n"
				    "[profiles.gaming]\ncapabilities = \"graphics,display\"\nenv = [\"A=1\"]\n",
				    &err);
	if (!c)
		fail_msg("%s", err.message);
	const struct nvb_profile *p = nvb_config_profile(c, "render");
	assert_non_null(p);
	assert_string_equal(p->devices, "0");
	assert_string_equal(p->env[0], "__GL_SHADER_DISK_CACHE=1");
	assert_false(p->builtin);
	p = nvb_config_profile(c, "gaming"); /* user's version replaces the built-in one */
	assert_false(p->builtin);
	assert_int_equal(p->n_env, 1);
	nvb_config_free(c);
	(void)state;
}

static void test_missing_file(void **state)
{
	struct nvb_error err;
	assert_null(nvb_config_load("/nonexistent/nvbind.toml", &err));
	assert_non_null(strstr(err.message, "/nonexistent/nvbind.toml"));
	assert_non_null(strstr(err.hint, "nvbind config init"));
	/* the template is a valid configuration */
	write_config(nvb_config_template());
	struct nvb_config *c = nvb_config_load(path, &err);
	if (!c)
		fail_msg("template: %s", err.message);
	unlink(path);
	nvb_config_free(c);
	assert_int_equal(nvb_edit_distance("host.rot", "host.root"), 1);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults), cmocka_unit_test(test_values_and_sources),
		cmocka_unit_test(test_errors),   cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
