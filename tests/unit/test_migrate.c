/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind migrate: docker command lines translated to nvbind, podman, Docker CDI and nvbind run;
 * the NVIDIA toolkit's daemon.json and config.toml settings mapped to nvbind's keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cdi/cdi.h"
#include "format/toml.h"
#include "migrate/migrate.h"

/* ---- helpers ---- */

static struct nvb_docker_run *parse_line(const char *line, struct nvb_error *err)
{
	struct nvb_strv words = {0};
	if (nvb_shell_split(line, &words, err) < 0)
		return NULL;
	struct nvb_docker_run *r = nvb_docker_run_parse(words.v, words.n, err);
	nvb_strv_free(&words);
	return r;
}

static char *translate(const struct nvb_docker_run *r, enum nvb_migrate_target t, struct nvb_strv *warnings)
{
	struct nvb_error err;
	struct nvb_strv out = {0};
	assert_int_equal(nvb_docker_run_translate(r, t, "nvidia.com/gpu", &out, warnings, &err), 0);
	char *line = nvb_shell_join(out.v, out.n);
	nvb_strv_free(&out);
	return line;
}

static bool has_warning(const struct nvb_strv *w, const char *needle)
{
	for (size_t i = 0; i < w->n; i++)
		if (strstr(w->v[i], needle))
			return true;
	return false;
}

/* ---- the table ---- */

struct tcase {
	const char *in;       /* the docker command as a shell would see it */
	const char *nvbind;   /* expected translations; NULL: not checked */
	const char *podman;
	const char *cdi;
	const char *run;
	const char *warning;  /* a warning that must appear (parse or translation), or NULL */
};

static const struct tcase cases[] = {
	/* --gpus forms */
	{"docker run --gpus all img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=all img",
	 "podman run --device nvidia.com/gpu=all img",
	 "docker run --device nvidia.com/gpu=all img",
	 "nvbind run --runtime docker --gpu all img", NULL},
	{"docker run --gpus=all img nvidia-smi -L",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=all img nvidia-smi -L",
	 "podman run --device nvidia.com/gpu=all img nvidia-smi -L", NULL,
	 "nvbind run --runtime docker --gpu all img nvidia-smi -L", NULL},
	{"docker run --gpus 2 img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0,1 img",
	 "podman run --device nvidia.com/gpu=0 --device nvidia.com/gpu=1 img",
	 "docker run --device nvidia.com/gpu=0 --device nvidia.com/gpu=1 img",
	 "nvbind run --runtime docker --gpu 0,1 img", NULL},
	{"docker run --gpus count=3 img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0,1,2 img", NULL, NULL, NULL, NULL},
	{"docker run --gpus count=all,capabilities=utility img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=all -e NVIDIA_DRIVER_CAPABILITIES=utility img",
	 "podman run --device nvidia.com/gpu=all img", NULL,
	 "nvbind run --runtime docker --gpu all --env NVIDIA_DRIVER_CAPABILITIES=utility img",
	 "has no effect"},
	{"docker run --gpus '\"device=0,2\"' img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0,2 img",
	 "podman run --device nvidia.com/gpu=0 --device nvidia.com/gpu=2 img",
	 "docker run --device nvidia.com/gpu=0 --device nvidia.com/gpu=2 img",
	 "nvbind run --runtime docker --gpu 0,2 img", NULL},
	{"docker run --gpus \"\\\"device=1\\\"\" img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=1 img", NULL, NULL, NULL, NULL},
	{"docker run --gpus device=GPU-d1fbf7fc-9024-0c3c-1dc5-43e462e7fc6a img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=GPU-d1fbf7fc-9024-0c3c-1dc5-43e462e7fc6a img",
	 "podman run --device nvidia.com/gpu=GPU-d1fbf7fc-9024-0c3c-1dc5-43e462e7fc6a img", NULL,
	 "nvbind run --runtime docker --gpu GPU-d1fbf7fc-9024-0c3c-1dc5-43e462e7fc6a img", NULL},
	{"docker run --gpus device=0,2 img", /* docker itself reads "2" as a count and fails */
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0,2 img", NULL, NULL, NULL,
	 "quote it as --gpus '\"device=0,2\"'"},
	{"docker run --gpus '\"capabilities=compute,utility\"' img", /* docker's default count: 1 */
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0 -e NVIDIA_DRIVER_CAPABILITIES=compute,utility img",
	 "podman run --device nvidia.com/gpu=0 img", NULL,
	 "nvbind run --runtime docker --gpu 0 --env NVIDIA_DRIVER_CAPABILITIES=compute,utility img", NULL},
	{"docker run --gpus capabilities=compute,utility img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0 -e NVIDIA_DRIVER_CAPABILITIES=compute,utility img",
	 NULL, NULL, NULL, "docker reads the part after the first comma as a count"},
	{"docker run --gpus '\"device=1,3\",\"capabilities=compute,video,gpu\",driver=nvidia' img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=1,3 -e NVIDIA_DRIVER_CAPABILITIES=compute,video img",
	 "podman run --device nvidia.com/gpu=1 --device nvidia.com/gpu=3 img", NULL, NULL, NULL},
	{"docker run --gpus '\"device=0:1,MIG-5c89852c-d268-c3f3-f2d5-e8f2d1e2b4d7\"' img",
	 NULL, "podman run --device nvidia.com/gpu=0:1 --device nvidia.com/gpu=MIG-5c89852c-d268-c3f3-f2d5-e8f2d1e2b4d7 img",
	 NULL, "nvbind run --runtime docker --gpu 0:1,MIG-5c89852c-d268-c3f3-f2d5-e8f2d1e2b4d7 img", NULL},
	{"docker run --gpus 0 img", /* docker sets NVIDIA_VISIBLE_DEVICES=void */
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=void img", "podman run img", "docker run img",
	 "nvbind run --runtime docker --gpu none img", NULL},

	/* --runtime nvidia with the environment */
	{"docker run --runtime nvidia -e NVIDIA_VISIBLE_DEVICES=0,2 -e NVIDIA_DRIVER_CAPABILITIES=compute,utility img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0,2 -e NVIDIA_DRIVER_CAPABILITIES=compute,utility img",
	 "podman run --device nvidia.com/gpu=0 --device nvidia.com/gpu=2 img",
	 "docker run --device nvidia.com/gpu=0 --device nvidia.com/gpu=2 img",
	 "nvbind run --runtime docker --gpu 0,2 --env NVIDIA_DRIVER_CAPABILITIES=compute,utility img", NULL},
	{"docker run --runtime=nvidia --env=NVIDIA_VISIBLE_DEVICES=1 img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=1 img",
	 "podman run --device nvidia.com/gpu=1 img", NULL, NULL, NULL},
	{"docker run --runtime nvidia -eNVIDIA_VISIBLE_DEVICES=GPU-aa,GPU-bb img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=GPU-aa,GPU-bb img",
	 "podman run --device nvidia.com/gpu=GPU-aa --device nvidia.com/gpu=GPU-bb img", NULL, NULL, NULL},
	{"docker run --runtime nvidia -e=NVIDIA_VISIBLE_DEVICES=all img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=all img", NULL, NULL, NULL, NULL},
	{"docker run --runtime nvidia --env 'NVIDIA_VISIBLE_DEVICES=0, 1' img",
	 "docker run --runtime nvbind -e 'NVIDIA_VISIBLE_DEVICES=0, 1' img",
	 "podman run --device nvidia.com/gpu=0 --device nvidia.com/gpu=1 img", NULL,
	 "nvbind run --runtime docker --gpu 0,1 img", NULL},
	{"docker run -e NVIDIA_VISIBLE_DEVICES=3 img", /* default-runtime nvidia */
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=3 img",
	 "podman run --device nvidia.com/gpu=3 img", NULL, NULL, "default-runtime"},
	{"docker run --runtime nvidia img",
	 "docker run --runtime nvbind img", "podman run img", "docker run img",
	 "nvbind run --runtime docker img", "the image's NVIDIA_VISIBLE_DEVICES decides"},
	{"docker run --runtime nvidia -e NVIDIA_VISIBLE_DEVICES=none img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=none img", "podman run img", NULL,
	 "nvbind run --runtime docker --gpu none img", "has no CDI device"},
	{"docker run --runtime nvidia -e NVIDIA_VISIBLE_DEVICES=void img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=void img", "podman run img", NULL,
	 "nvbind run --runtime docker --gpu none img", NULL},
	{"docker run -e NVIDIA_VISIBLE_DEVICES=1 --gpus all img", /* docker appends --gpus's value */
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=all img", NULL, NULL, NULL,
	 "--gpus replaces -e NVIDIA_VISIBLE_DEVICES=1"},
	{"docker run --gpus all -e NVIDIA_DRIVER_CAPABILITIES=all img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=all -e NVIDIA_DRIVER_CAPABILITIES=all img",
	 NULL, NULL, "nvbind run --runtime docker --gpu all --env NVIDIA_DRIVER_CAPABILITIES=all img", NULL},
	{"docker run --runtime nvidia -e NVIDIA_REQUIRE_CUDA='cuda>=12.0' -e NVIDIA_VISIBLE_DEVICES=0 img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0 -e 'NVIDIA_REQUIRE_CUDA=cuda>=12.0' img",
	 "podman run --device nvidia.com/gpu=0 -e 'NVIDIA_REQUIRE_CUDA=cuda>=12.0' img", NULL,
	 "nvbind run --runtime docker --gpu 0 --env 'NVIDIA_REQUIRE_CUDA=cuda>=12.0' img", NULL},
	{"docker run --runtime nvidia -e NVIDIA_VISIBLE_DEVICES -e FOO img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES -e FOO img", NULL, NULL,
	 "nvbind run --runtime docker img", "takes its value from docker's own environment"},

	/* other options are kept, in order, as they were written */
	{"docker run --rm -it --gpus all -v /data:/data -p 8080:80 --name job -w /work --user 1000:1000 "
	 "--entrypoint /bin/sh --network host --mount type=bind,src=/a,dst=/b --ipc=host --shm-size 1g "
	 "--device /dev/fuse -d img -c 'echo hi'",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=all --rm -it -v /data:/data -p 8080:80 --name job "
	 "-w /work --user 1000:1000 --entrypoint /bin/sh --network host --mount type=bind,src=/a,dst=/b "
	 "--ipc=host --shm-size 1g --device /dev/fuse -d img -c 'echo hi'",
	 "podman run --device nvidia.com/gpu=all --rm -it -v /data:/data -p 8080:80 --name job -w /work "
	 "--user 1000:1000 --entrypoint /bin/sh --network host --mount type=bind,src=/a,dst=/b --ipc=host "
	 "--shm-size 1g --device /dev/fuse -d img -c 'echo hi'",
	 NULL, "nvbind run --runtime docker --gpu all img -c 'echo hi'", "nvbind run: has no option for --rm -it"},
	{"docker run --rm=false --sig-proxy=false --read-only --privileged --init -P --gpus 1 img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0 --rm=false --sig-proxy=false --read-only "
	 "--privileged --init -P img", NULL, NULL, NULL, NULL},
	{"docker run -ite NVIDIA_VISIBLE_DEVICES=0 --runtime nvidia img", /* a cluster is split when it must */
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0 -i -t img",
	 "podman run --device nvidia.com/gpu=0 -i -t img", NULL, NULL, NULL},
	{"docker run -dit -eFOO=1 -u0 -v/a:/b --gpus 1 img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0 -dit -eFOO=1 -u0 -v/a:/b img", NULL, NULL,
	 "nvbind run --runtime docker --gpu 0 --env FOO=1 img", NULL},
	{"docker run -ite FOO=bar --gpus 1 img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0 -ite FOO=bar img", NULL, NULL,
	 "nvbind run --runtime docker --gpu 0 --env FOO=bar img", "has no option for -it:"},
	{"docker run --frobnicate=3 --gpus 1 img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0 --frobnicate=3 img", NULL, NULL, NULL,
	 "unknown docker run option --frobnicate=3"},
	{"docker run --runtime runc --gpus 1 img",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0 img",
	 "podman run --device nvidia.com/gpu=0 --runtime runc img", NULL, NULL, "--runtime runc replaced"},

	/* quoting */
	{"docker run --gpus all -e 'MSG=hello world' --name 'my job' img sh -c 'echo \"a b\"; echo it'\\''s'",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=all -e 'MSG=hello world' --name 'my job' img "
	 "sh -c 'echo \"a b\"; echo it'\\''s'",
	 "podman run --device nvidia.com/gpu=all -e 'MSG=hello world' --name 'my job' img sh -c 'echo \"a b\"; echo it'\\''s'",
	 NULL, "nvbind run --runtime docker --gpu all --env 'MSG=hello world' img sh -c 'echo \"a b\"; echo it'\\''s'",
	 NULL},
	{"docker run --gpus all img echo '' '$HOME' '*'",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=all img echo '' '$HOME' '*'", NULL, NULL, NULL, NULL},

	/* options after the image belong to the command */
	{"docker run img --gpus all -e NVIDIA_VISIBLE_DEVICES=1 --rm",
	 "docker run --runtime nvbind img --gpus all -e NVIDIA_VISIBLE_DEVICES=1 --rm",
	 "podman run img --gpus all -e NVIDIA_VISIBLE_DEVICES=1 --rm", NULL,
	 "nvbind run --runtime docker --gpu none img --gpus all -e NVIDIA_VISIBLE_DEVICES=1 --rm", "asks for no GPU"},
	{"docker run --gpus 1 -- img -x",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0 img -x", NULL, NULL, NULL, NULL},

	/* docker's forms */
	{"docker container run --gpus 1 img",
	 "docker container run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0 img", "podman run --device nvidia.com/gpu=0 img",
	 "docker container run --device nvidia.com/gpu=0 img", NULL, NULL},
	{"/usr/bin/docker -H unix:///run/d.sock --log-level=debug run --gpus 1 img",
	 "/usr/bin/docker -H unix:///run/d.sock --log-level=debug run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0 img",
	 "podman run --device nvidia.com/gpu=0 img",
	 "/usr/bin/docker -H unix:///run/d.sock --log-level=debug run --device nvidia.com/gpu=0 img",
	 "nvbind run --runtime docker --gpu 0 img", "engines.docker"},
	{"docker --context=remote -D run --gpus 1 img",
	 "docker --context=remote -D run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=0 img", NULL, NULL, NULL, NULL},
	{"docker run --gpus all --device nvidia.com/gpu=1 img", /* a CDI device already there stays */
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=all --device nvidia.com/gpu=1 img", NULL, NULL, NULL, NULL},

	/* a backslash-newline continuation, as pasted from a README */
	{"docker run --rm \\\n  --gpus all \\\n  img \\\n  nvidia-smi",
	 "docker run --runtime nvbind -e NVIDIA_VISIBLE_DEVICES=all --rm img nvidia-smi", NULL, NULL, NULL, NULL},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVB_ARRAY_SIZE(cases); i++) {
		const struct tcase *c = &cases[i];
		struct nvb_error err;
		nvb_error_clear(&err);
		struct nvb_docker_run *r = parse_line(c->in, &err);
		if (!r)
			fail_msg("case %zu (%s): %s", i, c->in, err.message);
		const char *expect[NVB_MIGRATE_N_TARGETS] = {c->nvbind, c->podman, c->cdi, c->run};
		struct nvb_strv warnings = {0};
		for (size_t k = 0; k < r->warnings.n; k++)
			nvb_strv_push(&warnings, r->warnings.v[k]);
		for (int t = 0; t < NVB_MIGRATE_N_TARGETS; t++) {
			char *line = translate(r, (enum nvb_migrate_target)t, &warnings);
			if (expect[t] && strcmp(line, expect[t]))
				fail_msg("case %zu (%s), %s:\n  got      %s\n  expected %s", i, c->in,
					 nvb_migrate_target_name((enum nvb_migrate_target)t), line, expect[t]);
			free(line);
		}
		if (c->warning && !has_warning(&warnings, c->warning)) {
			for (size_t k = 0; k < warnings.n; k++)
				print_message("  warning: %s\n", warnings.v[k]);
			fail_msg("case %zu (%s): no warning with \"%s\"", i, c->in, c->warning);
		}
		nvb_strv_free(&warnings);
		nvb_docker_run_free(r);
	}
}

/* every translation is itself a command line the shell splits back into the same words */
static void test_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < NVB_ARRAY_SIZE(cases); i++) {
		struct nvb_error err;
		struct nvb_docker_run *r = parse_line(cases[i].in, &err);
		assert_non_null(r);
		for (int t = 0; t < NVB_MIGRATE_N_TARGETS; t++) {
			struct nvb_strv out = {0}, warnings = {0}, back = {0};
			assert_int_equal(nvb_docker_run_translate(r, (enum nvb_migrate_target)t, "nvidia.com/gpu",
								  &out, &warnings, &err), 0);
			char *line = nvb_shell_join(out.v, out.n);
			assert_int_equal(nvb_shell_split(line, &back, &err), 0);
			assert_int_equal(back.n, out.n);
			for (size_t k = 0; k < out.n; k++)
				assert_string_equal(back.v[k], out.v[k]);
			free(line);
			nvb_strv_free(&out);
			nvb_strv_free(&back);
			nvb_strv_free(&warnings);
		}
		nvb_docker_run_free(r);
	}
}

static void test_direct_argv(void **state)
{
	(void)state;
	/* words given by the shell already: nothing is split again */
	char *argv[] = {"docker", "run", "--gpus", "\"device=0,2\"", "-e", "A=x y", "img", "sh", "-c", "echo $A"};
	struct nvb_error err;
	struct nvb_docker_run *r = nvb_docker_run_parse(argv, NVB_ARRAY_SIZE(argv), &err);
	assert_non_null(r);
	assert_string_equal(r->devices, "0,2");
	assert_true(r->gpus);
	assert_null(r->capabilities);
	assert_string_equal(r->image, "img");
	assert_int_equal(r->cmd.n, 3);
	assert_string_equal(r->cmd.v[2], "echo $A");
	assert_int_equal(r->env.n, 1);
	assert_string_equal(r->env.v[0], "A=x y");
	struct nvb_strv w = {0};
	char *line = translate(r, NVB_MIGRATE_PODMAN, &w);
	assert_string_equal(line, "podman run --device nvidia.com/gpu=0 --device nvidia.com/gpu=2 -e 'A=x y' img sh -c 'echo $A'");
	free(line);
	/* another CDI kind */
	struct nvb_strv out = {0};
	assert_int_equal(nvb_docker_run_translate(r, NVB_MIGRATE_DOCKER_CDI, "example.com/gpu", &out, &w, &err), 0);
	assert_string_equal(out.v[3], "example.com/gpu=0");
	nvb_strv_free(&out);
	nvb_strv_free(&w);
	nvb_docker_run_free(r);
}

static void test_errors(void **state)
{
	(void)state;
	static const struct {
		const char *in, *message;
	} bad[] = {
		{"docker ps", "is not docker run"},
		{"docker container ls", "is not docker run"},
		{"podman run --gpus all img", "is not a docker command"},
		{"sudo docker run --gpus all img", "is not a docker command"},
		{"docker run --gpus all", "names no image"},
		{"docker run", "names no image"},
		{"docker run --rm img2 --gpus", NULL}, /* fine: --gpus belongs to the command */
		{"docker run img --gpus", NULL},
		{"docker run --gpus", "needs a value"},
		{"docker run -e", "needs a value"},
		{"docker -H", "needs a value"},
		{"docker run --gpus '' img", "empty value"},
		{"docker run --gpus foo img", "count must be an integer"},
		{"docker run --gpus foo=1 img", "unexpected key 'foo'"},
		{"docker run --gpus 2,count=3 img", "can be specified only once"},
		{"docker run --gpus count=2,device=1 img", "cannot set both Count and DeviceIDs"},
		{"docker run --gpus '\"count=2,capabilities=gpu\"' img", "count must be an integer"},
		{"docker run --gpus '\"device=0' img", "missing \""},
		{"docker run --gpus 'device=\"0\"' img", "bare \""},
		{"docker run --gpus '\"device=0\"x' img", "extraneous"},
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(bad); i++) {
		struct nvb_error err;
		nvb_error_clear(&err);
		struct nvb_docker_run *r = parse_line(bad[i].in, &err);
		if (!bad[i].message) {
			if (!r)
				fail_msg("%s: %s", bad[i].in, err.message);
			nvb_docker_run_free(r);
			continue;
		}
		if (r)
			fail_msg("%s: accepted", bad[i].in);
		assert_int_equal(err.code, NVB_ERR_USAGE);
		if (!strstr(err.message, bad[i].message))
			fail_msg("%s: message \"%s\" lacks \"%s\"", bad[i].in, err.message, bad[i].message);
	}
	struct nvb_error err;
	assert_null(nvb_docker_run_parse(NULL, 0, &err));
}

static void test_gpus_values(void **state)
{
	(void)state;
	static const struct {
		const char *in, *devices, *caps;
	} ok[] = {
		{"all", "all", NULL},
		{"1", "0", NULL},
		{"4", "0,1,2,3", NULL},
		{"count=all", "all", NULL},
		{"\"device=0,2\"", "0,2", NULL},
		{"device=2", "2", NULL},
		{"\"device=0\",\"capabilities=utility\"", "0", "utility"},
		{"all,\"capabilities=compute,utility,graphics,display,video,compat32\"", "all",
		 "compute,utility,graphics,display,video,compat32"},
		{"\"capabilities=gpu\"", "0", NULL},
		{"\"capabilities=ngx\"", "0", "ngx"},         /* docker refuses, nvbind knows it */
		{"\"capabilities=bogus,compute\"", "0", "compute"}, /* left out */
		{"count=2,driver=nvidia,options=a=b", "0,1", NULL},
		{"0", "void", NULL},
		{"count=0", "void", NULL},
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(ok); i++) {
		char *devices, *caps;
		struct nvb_strv w = {0};
		struct nvb_error err;
		if (nvb_docker_gpus_parse(ok[i].in, &devices, &caps, &w, &err) < 0)
			fail_msg("%s: %s", ok[i].in, err.message);
		assert_string_equal(devices, ok[i].devices);
		if (ok[i].caps)
			assert_string_equal(caps, ok[i].caps);
		else
			assert_null(caps);
		free(devices);
		free(caps);
		nvb_strv_free(&w);
	}
	char *devices, *caps;
	struct nvb_strv w = {0};
	struct nvb_error err;
	assert_int_equal(nvb_docker_gpus_parse("\"capabilities=ngx\"", &devices, &caps, &w, &err), 0);
	assert_true(has_warning(&w, "docker refuses 'ngx'"));
	free(devices);
	free(caps);
	nvb_strv_free(&w);
	assert_int_equal(nvb_docker_gpus_parse("driver=amd", &devices, &caps, &w, &err), 0);
	assert_true(has_warning(&w, "not the NVIDIA driver"));
	free(devices);
	free(caps);
	nvb_strv_free(&w);
}

static void test_shell(void **state)
{
	(void)state;
	static const struct {
		const char *word, *quoted;
	} q[] = {
		{"plain", "plain"},
		{"NVIDIA_VISIBLE_DEVICES=0,2", "NVIDIA_VISIBLE_DEVICES=0,2"},
		{"nvidia.com/gpu=GPU-1", "nvidia.com/gpu=GPU-1"},
		{"", "''"},
		{"a b", "'a b'"},
		{"it's", "'it'\\''s'"},
		{"$HOME", "'$HOME'"},
		{"\"device=0,2\"", "'\"device=0,2\"'"},
		{"a\nb", "'a\nb'"},
		{"~", "'~'"},
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(q); i++) {
		char *s = nvb_shell_quote(q[i].word);
		assert_string_equal(s, q[i].quoted);
		free(s);
	}
	static const struct {
		const char *line;
		size_t n;
		const char *words[5];
	} sp[] = {
		{"a b  c", 3, {"a", "b", "c"}},
		{"'a b' \"c d\" e\\ f", 3, {"a b", "c d", "e f"}},
		{"'' \"\" x", 3, {"", "", "x"}},
		{"a\\\n b", 2, {"a", "b"}},
		{"a\\\r\n b", 2, {"a", "b"}},
		{"\"a\\\"b\\\\c\\$d\\x\"", 1, {"a\"b\\c$d\\x"}},
		{"x'y'\"z\"", 1, {"xyz"}},
		{"  ", 0, {NULL}},
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(sp); i++) {
		struct nvb_strv out = {0};
		struct nvb_error err;
		assert_int_equal(nvb_shell_split(sp[i].line, &out, &err), 0);
		assert_int_equal(out.n, sp[i].n);
		for (size_t k = 0; k < out.n; k++)
			assert_string_equal(out.v[k], sp[i].words[k]);
		nvb_strv_free(&out);
	}
	const char *bad[] = {"a 'b", "a \"b", "\"a\\\""};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(bad); i++) {
		struct nvb_strv out = {0};
		struct nvb_error err;
		assert_int_equal(nvb_shell_split(bad[i], &out, &err), -1);
		assert_int_equal(err.code, NVB_ERR_USAGE);
		assert_non_null(strstr(err.message, "unterminated"));
		nvb_strv_free(&out);
	}
}

static void test_targets(void **state)
{
	(void)state;
	const char *names[] = {"nvbind", "podman", "docker-cdi", "nvbind-run"};
	for (int t = 0; t < NVB_MIGRATE_N_TARGETS; t++) {
		enum nvb_migrate_target out;
		assert_string_equal(nvb_migrate_target_name((enum nvb_migrate_target)t), names[t]);
		assert_int_equal(nvb_migrate_target_parse(names[t], &out), 0);
		assert_int_equal(out, t);
	}
	enum nvb_migrate_target out;
	assert_int_equal(nvb_migrate_target_parse("all", &out), -1);
	assert_int_equal(nvb_migrate_target_parse("docker", &out), -1);
}

/* ---- daemon.json ---- */

static void test_daemon_nvidia(void **state)
{
	(void)state;
	const char *in = "{\n  \"default-runtime\": \"nvidia\",\n  \"exec-opts\": [\"native.cgroupdriver=systemd\"],\n"
			 "  \"features\": {\"cdi\": true},\n"
			 "  \"runtimes\": {\"nvidia\": {\"path\": \"/usr/bin/nvidia-container-runtime\", "
			 "\"runtimeArgs\": []},\n  \"crun\": {\"path\": \"/usr/bin/crun\"}}\n}\n";
	struct nvb_migrate_report r = {0};
	struct nvb_error err;
	assert_int_equal(nvb_migrate_inspect_docker(&r, in, "/etc/docker/daemon.json", &err), 0);
	assert_string_equal(r.nvidia_runtime, "/usr/bin/nvidia-container-runtime");
	assert_string_equal(r.default_runtime, "nvidia");
	assert_null(r.nvbind_runtime);
	const struct nvb_migrate_item *it = nvb_migrate_find(&r, "runtimes.nvidia.path");
	assert_non_null(it);
	assert_string_equal(it->value, "\"/usr/bin/nvidia-container-runtime\"");
	assert_non_null(strstr(it->note, "kept"));
	assert_non_null(nvb_migrate_find(&r, "runtimes.nvidia.runtimeArgs"));
	assert_null(nvb_migrate_find(&r, "runtimes.crun.path")); /* not the toolkit's */
	it = nvb_migrate_find(&r, "default-runtime");
	assert_non_null(strstr(it->note, "nvbind setup docker --default"));
	it = nvb_migrate_find(&r, "exec-opts");
	assert_string_equal(it->value, "[\"native.cgroupdriver=systemd\"]");
	assert_non_null(nvb_migrate_find(&r, "features.cdi"));
	char *text = nvb_migrate_report_format(&r);
	assert_non_null(strstr(text, "/etc/docker/daemon.json:\n  runtimes.nvidia.path = \"/usr/bin/nvidia-container-runtime\"\n"));
	free(text);
	/* nothing here maps to a configuration key */
	char *snippet = nvb_migrate_config_snippet(&r);
	assert_string_equal(snippet, "");
	free(snippet);
	nvb_migrate_report_free(&r);
}

static void test_daemon_other(void **state)
{
	(void)state;
	struct nvb_migrate_report r = {0};
	struct nvb_error err;
	assert_int_equal(nvb_migrate_inspect_docker(&r, "", "d.json", &err), 0);
	assert_int_equal(r.n_items, 0);
	assert_int_equal(nvb_migrate_inspect_docker(&r, "{\"log-level\": \"warn\"}", "d.json", &err), 0);
	assert_int_equal(r.n_items, 0);
	assert_null(r.nvidia_runtime);
	assert_int_equal(nvb_migrate_inspect_docker(
				 &r, "{\"runtimes\": {\"nvbind\": {\"path\": \"/x/nvbind-runtime\"}, "
				     "\"nvidia-legacy\": {\"path\": \"/usr/bin/nvidia-container-runtime.legacy\"}}, "
				     "\"default-runtime\": \"nvbind\"}", "d.json", &err), 0);
	assert_string_equal(r.nvbind_runtime, "/x/nvbind-runtime");
	assert_non_null(nvb_migrate_find(&r, "runtimes.nvidia-legacy.path"));
	assert_null(r.nvidia_runtime);
	assert_non_null(strstr(nvb_migrate_find(&r, "default-runtime")->note, "already"));
	nvb_migrate_report_free(&r);

	static const struct {
		const char *in, *message;
		enum nvb_errc code;
	} bad[] = {
		{"{\n  \"runtimes\": {\n    \"nvidia\": {\"path\": \"x\"}\n  ", "d.json:4:", NVB_ERR_PARSE},
		{"{\"a\": 1,}", "d.json:1:", NVB_ERR_PARSE},
		{"{\"a\": 1, \"a\": 2}", "duplicate", NVB_ERR_PARSE},
		{"[1]", "the document is not a JSON object", NVB_ERR_INVALID},
		{"{\"runtimes\": []}", "\"runtimes\" is not a JSON object", NVB_ERR_INVALID},
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(bad); i++) {
		struct nvb_migrate_report b = {0};
		assert_int_equal(nvb_migrate_inspect_docker(&b, bad[i].in, "d.json", &err), -1);
		assert_int_equal(err.code, bad[i].code);
		if (!strstr(err.message, bad[i].message))
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].in, err.message, bad[i].message);
		nvb_migrate_report_free(&b);
	}
}

/* ---- the toolkit's config.toml ---- */

static const char toolkit_default[] =
	"#accept-nvidia-visible-devices-as-volume-mounts = false\n"
	"#accept-nvidia-visible-devices-envvar-when-unprivileged = true\n"
	"disable-require = false\n"
	"supported-driver-capabilities = \"compat32,compute,display,graphics,ngx,utility,video\"\n"
	"#swarm-resource = \"DOCKER_RESOURCE_GPU\"\n"
	"\n"
	"[nvidia-container-cli]\n"
	"#debug = \"/var/log/nvidia-container-toolkit.log\"\n"
	"environment = []\n"
	"#ldcache = \"/etc/ld.so.cache\"\n"
	"ldconfig = \"@/sbin/ldconfig\"\n"
	"load-kmods = true\n"
	"#no-cgroups = false\n"
	"#path = \"/usr/bin/nvidia-container-cli\"\n"
	"#root = \"/run/nvidia/driver\"\n"
	"#user = \"root:video\"\n"
	"\n"
	"[nvidia-container-runtime]\n"
	"#debug = \"/var/log/nvidia-container-runtime.log\"\n"
	"log-level = \"info\"\n"
	"mode = \"auto\"\n"
	"runtimes = [\"docker-runc\", \"runc\", \"crun\"]\n"
	"\n"
	"[nvidia-container-runtime.modes]\n"
	"\n"
	"[nvidia-container-runtime.modes.cdi]\n"
	"annotation-prefixes = [\"cdi.k8s.io/\"]\n"
	"default-kind = \"nvidia.com/gpu\"\n"
	"spec-dirs = [\"/etc/cdi\", \"/var/run/cdi\"]\n"
	"\n"
	"[nvidia-container-runtime.modes.csv]\n"
	"mount-spec-path = \"/etc/nvidia-container-runtime/host-files-for-container.d\"\n"
	"\n"
	"[nvidia-container-runtime-hook]\n"
	"path = \"nvidia-container-runtime-hook\"\n"
	"skip-mode-detection = false\n"
	"\n"
	"[nvidia-ctk]\n"
	"path = \"nvidia-ctk\"\n";

static void inspect(struct nvb_migrate_report *r, const char *text)
{
	struct nvb_error err;
	if (nvb_migrate_inspect_toolkit(r, text, strlen(text), "config.toml", &err) < 0)
		fail_msg("%s", err.message);
}

/* A setting is shown as TOML that reads back as the same value: a float stays a float (1.0 was
 * written as 1, an integer), and an inline table's keys with a dot or a space are quoted (a
 * bare a.b is the key b of a table a). */
static void test_toolkit_writer(void **state)
{
	(void)state;
	struct nvb_migrate_report r = {0};
	inspect(&r, "ratio = 1.0\n"
		    "tenth = 0.1\n"
		    "big = 1e300\n"
		    "neg = -2.5\n"
		    "odd = {\"a.b\" = 1, \"c d\" = 2.0, plain_key = \"x\"}\n");
	const struct nvb_migrate_item *it = nvb_migrate_find(&r, "ratio");
	assert_non_null(it);
	assert_string_equal(it->value, "1.0");
	assert_string_equal(nvb_migrate_find(&r, "tenth")->value, "0.1");
	assert_string_equal(nvb_migrate_find(&r, "big")->value, "1e+300");
	assert_string_equal(nvb_migrate_find(&r, "neg")->value, "-2.5");
	it = nvb_migrate_find(&r, "odd");
	assert_non_null(it);
	assert_string_equal(it->value, "{ \"a.b\" = 1, \"c d\" = 2.0, plain_key = \"x\" }");
	/* and what was written parses back to the same keys and values */
	_cleanup_free_ char *doc = nvb_asprintf("t = %s\n", it->value);
	struct nvb_error err;
	struct nvb_toml_value *back = nvb_toml_parse(doc, strlen(doc), "written", &err);
	assert_non_null(back);
	const struct nvb_toml_value *t = nvb_toml_get(back, "t");
	assert_non_null(t);
	assert_int_equal(t->n, 3);
	assert_string_equal(t->keys[0], "a.b");
	assert_int_equal(t->items[1]->type, NVB_TOML_FLOAT);
	nvb_toml_free(back);
	nvb_migrate_report_free(&r);
}

static void test_toolkit_default(void **state)
{
	(void)state;
	struct nvb_migrate_report r = {0};
	inspect(&r, toolkit_default);
	assert_true(r.toolkit_config);
	/* every setting is reported, commented ones are not settings */
	assert_int_equal(r.n_items, 15);
	assert_null(nvb_migrate_find(&r, "swarm-resource"));
	const struct nvb_migrate_item *it = nvb_migrate_find(&r, "nvidia-container-runtime.modes.cdi.default-kind");
	assert_string_equal(it->nvbind_key, "cdi.kind");
	assert_string_equal(it->nvbind_value, "\"nvidia.com/gpu\"");
	assert_false(it->differs);
	assert_int_equal(it->line, 28);
	it = nvb_migrate_find(&r, "nvidia-container-runtime.modes.cdi.spec-dirs");
	assert_string_equal(it->nvbind_key, "host.spec_dirs");
	assert_string_equal(it->nvbind_value, "[\"/etc/cdi\", \"/var/run/cdi\"]");
	assert_false(it->differs);
	it = nvb_migrate_find(&r, "nvidia-container-runtime.log-level");
	assert_string_equal(it->nvbind_key, "runtime.log_level");
	assert_false(it->differs);
	it = nvb_migrate_find(&r, "nvidia-container-cli.ldconfig");
	assert_null(it->nvbind_key);
	assert_non_null(strstr(it->note, "runs no ldconfig"));
	it = nvb_migrate_find(&r, "nvidia-container-runtime.runtimes");
	assert_null(it->nvbind_key);
	assert_non_null(strstr(it->note, "first runc, then crun"));
	it = nvb_migrate_find(&r, "supported-driver-capabilities");
	assert_null(it->nvbind_key);
	assert_non_null(strstr(it->note, "--driver-capabilities"));
	it = nvb_migrate_find(&r, "nvidia-container-runtime.mode");
	assert_null(it->nvbind_key);
	/* the defaults need nothing in nvbind's configuration */
	char *snippet = nvb_migrate_config_snippet(&r);
	assert_string_equal(snippet, "");
	free(snippet);
	nvb_migrate_report_free(&r);
}

static void test_toolkit_custom(void **state)
{
	(void)state;
	const char *in =
		"accept-nvidia-visible-devices-envvar-when-unprivileged = false\n"
		"accept-nvidia-visible-devices-as-volume-mounts = true\n"
		"swarm-resource = \"DOCKER_RESOURCE_GPU\"\n"
		"[nvidia-container-cli]\n"
		"root = \"/run/nvidia/driver\"\n"
		"ldconfig = \"/sbin/ldconfig\"\n"
		"no-cgroups = true\n"
		"[nvidia-container-runtime]\n"
		"debug = \"/var/log/nvidia-container-runtime.log\"\n"
		"log-level = \"warning\"\n"
		"runtimes = [\"/usr/local/bin/crun\"]\n"
		"mode = \"csv\"\n"
		"[nvidia-container-runtime.modes.cdi]\n"
		"default-kind = \"example.com/gpu\"\n"
		"spec-dirs = [\"/etc/cdi\"]\n"
		"annotation-prefixes = [\"cdi.k8s.io/\", \"nvidia.cdi.k8s.io/\"]\n"
		"[features]\n"
		"allow-ldconfig-from-container = true\n"
		"[mystery]\n"
		"x = { a = 1, b = [1.5, 2024-01-01] }\n";
	struct nvb_migrate_report r = {0};
	inspect(&r, in);
	static const struct {
		const char *setting, *key, *value;
	} map[] = {
		{"accept-nvidia-visible-devices-envvar-when-unprivileged", "security.env_requests_unprivileged", "false"},
		{"nvidia-container-cli.root", "host.root", "\"/run/nvidia/driver\""},
		{"nvidia-container-runtime.debug", "runtime.log_file", "\"/var/log/nvidia-container-runtime.log\""},
		{"nvidia-container-runtime.log-level", "runtime.log_level", "\"warn\""},
		{"nvidia-container-runtime.runtimes", "runtime.low_level", "\"/usr/local/bin/crun\""},
		{"nvidia-container-runtime.modes.cdi.default-kind", "cdi.kind", "\"example.com/gpu\""},
		{"nvidia-container-runtime.modes.cdi.spec-dirs", "host.spec_dirs", "[\"/etc/cdi\"]"},
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(map); i++) {
		const struct nvb_migrate_item *it = nvb_migrate_find(&r, map[i].setting);
		if (!it)
			fail_msg("%s not reported", map[i].setting);
		assert_string_equal(it->nvbind_key, map[i].key);
		assert_string_equal(it->nvbind_value, map[i].value);
		assert_true(it->differs);
	}
	static const struct {
		const char *setting, *note;
	} none[] = {
		{"accept-nvidia-visible-devices-as-volume-mounts", "/var/run/nvidia-container-devices"},
		{"swarm-resource", "DOCKER_RESOURCE_"},
		{"nvidia-container-cli.ldconfig", "container's ldconfig"},
		{"nvidia-container-cli.no-cgroups", "cgroup"},
		{"nvidia-container-runtime.mode", "CSV"},
		{"nvidia-container-runtime.modes.cdi.annotation-prefixes", "cdi.k8s.io/"},
		{"features.allow-ldconfig-from-container", "feature flag"},
		{"mystery.x", "no equivalent"},
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(none); i++) {
		const struct nvb_migrate_item *it = nvb_migrate_find(&r, none[i].setting);
		if (!it)
			fail_msg("%s not reported", none[i].setting);
		assert_null(it->nvbind_key);
		if (!strstr(it->note, none[i].note))
			fail_msg("%s: \"%s\" lacks \"%s\"", none[i].setting, it->note, none[i].note);
	}
	assert_string_equal(nvb_migrate_find(&r, "mystery.x")->value, "{ a = 1, b = [1.5, 2024-01-01] }");
	assert_string_equal(nvb_migrate_find(&r, "swarm-resource")->value, "\"DOCKER_RESOURCE_GPU\"");
	assert_int_equal(nvb_migrate_find(&r, "swarm-resource")->line, 3);

	char *snippet = nvb_migrate_config_snippet(&r);
	assert_string_equal(snippet,
			    "[host]\n"
			    "root = \"/run/nvidia/driver\"  # nvidia-container-cli.root\n"
			    "spec_dirs = [\"/etc/cdi\"]  # nvidia-container-runtime.modes.cdi.spec-dirs\n"
			    "\n"
			    "[runtime]\n"
			    "log_file = \"/var/log/nvidia-container-runtime.log\"  # nvidia-container-runtime.debug\n"
			    "log_level = \"warn\"  # nvidia-container-runtime.log-level\n"
			    "low_level = \"/usr/local/bin/crun\"  # nvidia-container-runtime.runtimes\n"
			    "\n"
			    "[cdi]\n"
			    "kind = \"example.com/gpu\"  # nvidia-container-runtime.modes.cdi.default-kind\n"
			    "\n"
			    "[security]\n"
			    "env_requests_unprivileged = false  # accept-nvidia-visible-devices-envvar-when-unprivileged\n");
	free(snippet);

	char *text = nvb_migrate_report_format(&r);
	assert_non_null(strstr(text, "config.toml:\n  accept-nvidia-visible-devices-envvar-when-unprivileged = false  (line 1)\n"
				     "      -> security.env_requests_unprivileged = false\n"));
	assert_non_null(strstr(text, "  swarm-resource = \"DOCKER_RESOURCE_GPU\"  (line 3)\n      -> no equivalent"));
	free(text);
	nvb_migrate_report_free(&r);
}

static void test_toolkit_invalid_values(void **state)
{
	(void)state;
	/* values nvbind would refuse are not carried over */
	const char *in = "accept-nvidia-visible-devices-envvar-when-unprivileged = \"no\"\n"
			 "[nvidia-container-cli]\nroot = \"relative\"\n"
			 "[nvidia-container-runtime]\nlog-level = \"loud\"\ndebug = \"x.log\"\nruntimes = []\n"
			 "[nvidia-container-runtime.modes.cdi]\ndefault-kind = \"gpu\"\nspec-dirs = [\"cdi\"]\n";
	struct nvb_migrate_report r = {0};
	inspect(&r, in);
	assert_int_equal(r.n_items, 7);
	for (size_t i = 0; i < r.n_items; i++) {
		if (r.items[i].nvbind_key)
			fail_msg("%s mapped to %s", r.items[i].setting, r.items[i].nvbind_key);
		assert_non_null(r.items[i].note);
	}
	char *snippet = nvb_migrate_config_snippet(&r);
	assert_string_equal(snippet, "");
	free(snippet);
	nvb_migrate_report_free(&r);
}

static void test_toolkit_unparseable(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"disable-require = false\n[nvidia-container-cli\nldconfig = \"@/sbin/ldconfig\"\n",
		"a = 1\na = 2\n",
		"log-level = \"info\n",
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(bad); i++) {
		struct nvb_migrate_report r = {0};
		struct nvb_error err;
		assert_int_equal(nvb_migrate_inspect_toolkit(&r, bad[i], strlen(bad[i]),
							     "/etc/nvidia-container-runtime/config.toml", &err), -1);
		assert_int_equal(err.code, NVB_ERR_PARSE);
		assert_true(nvb_str_has_prefix(err.message, "/etc/nvidia-container-runtime/config.toml:"));
		assert_false(r.toolkit_config);
		nvb_migrate_report_free(&r);
	}
	struct nvb_migrate_report r = {0};
	struct nvb_error err;
	assert_int_equal(nvb_migrate_inspect_toolkit(&r, bad[0], strlen(bad[0]), "c.toml", &err), -1);
	assert_true(nvb_str_has_prefix(err.message, "c.toml:2:"));
	nvb_migrate_report_free(&r);
}

static void test_report_both(void **state)
{
	(void)state;
	/* daemon.json and config.toml in one report: one block per file */
	struct nvb_migrate_report r = {0};
	struct nvb_error err;
	assert_int_equal(nvb_migrate_inspect_docker(&r, "{\"runtimes\": {\"nvidia\": {\"path\": \"nvidia-container-runtime\"}}}",
						    "daemon.json", &err), 0);
	inspect(&r, "accept-nvidia-visible-devices-envvar-when-unprivileged = false\n");
	char *text = nvb_migrate_report_format(&r);
	const char *a = strstr(text, "daemon.json:\n"), *b = strstr(text, "config.toml:\n");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a < b);
	free(text);
	nvb_migrate_report_free(&r);
}

/* ---- CDI specs of other generators ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

#define SPEC(kind, hook_path, hook_args)                                                          \
	"{\"cdiVersion\": \"0.5.0\", \"kind\": \"" kind "\", \"devices\": [{\"name\": \"0\", "            \
	"\"containerEdits\": {\"deviceNodes\": [{\"path\": \"/dev/nvidia0\"}]}}], "                     \
	"\"containerEdits\": {\"hooks\": [{\"hookName\": \"createContainer\", \"path\": \"" hook_path     \
	"\", \"args\": [" hook_args "], \"env\": [\"X=1\"]}]}}\n"

static void test_foreign_specs(void **state)
{
	(void)state;
	char etc[] = "/tmp/nvb-migrate-etc-XXXXXX", run[] = "/tmp/nvb-migrate-run-XXXXXX";
	assert_non_null(mkdtemp(etc));
	assert_non_null(mkdtemp(run));
	write_file(etc, "nvidia.com-gpu.json",
		   SPEC("nvidia.com/gpu", "/usr/local/bin/nvbind", "\"nvbind\", \"hook\", \"update-ldcache\""));
	write_file(etc, "nvidia.json",
		   SPEC("nvidia.com/gpu", "/usr/bin/nvidia-cdi-hook", "\"nvidia-cdi-hook\", \"update-ldcache\""));
	write_file(run, "nvidia.json",
		   SPEC("nvidia.com/gpu", "/usr/bin/nvidia-ctk", "\"nvidia-ctk\", \"hook\", \"update-ldcache\""));
	write_file(run, "other.json", SPEC("nvidia.com/gpu", "/opt/hook", "\"hook\""));
	write_file(run, "amd.json", SPEC("amd.com/gpu", "/usr/bin/nvidia-ctk", "\"nvidia-ctk\""));
	const char *dirs[] = {etc, run};
	struct nvb_error err;
	struct nvb_cdi_registry *reg = nvb_cdi_registry_load(dirs, 2, &err);
	assert_non_null(reg);
	for (size_t i = 0; i < reg->n_errors; i++)
		print_message("registry: %s\n", reg->errors[i]);
	struct nvb_strv out = {0};
	assert_int_equal(nvb_migrate_foreign_specs(reg, "nvidia.com/gpu", &out), 0);
	assert_int_equal(out.n, 3);
	char want[3][600];
	snprintf(want[0], sizeof(want[0]), "%s/nvidia.json (written by nvidia-ctk)", etc);
	snprintf(want[1], sizeof(want[1]), "%s/nvidia.json (written by nvidia-ctk)", run);
	snprintf(want[2], sizeof(want[2]), "%s/other.json", run);
	for (size_t i = 0; i < 3; i++) {
		bool found = false;
		for (size_t k = 0; k < out.n; k++)
			found |= !strcmp(out.v[k], want[i]);
		if (!found)
			fail_msg("%s not reported", want[i]);
	}
	nvb_strv_free(&out);
	assert_int_equal(nvb_migrate_foreign_specs(reg, "example.com/gpu", &out), 0);
	assert_int_equal(out.n, 0);
	nvb_cdi_registry_free(reg);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", etc, run);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_direct_argv),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_gpus_values),
		cmocka_unit_test(test_shell),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_daemon_nvidia),
		cmocka_unit_test(test_daemon_other),
		cmocka_unit_test(test_toolkit_default),
		cmocka_unit_test(test_toolkit_writer),
		cmocka_unit_test(test_toolkit_custom),
		cmocka_unit_test(test_toolkit_invalid_values),
		cmocka_unit_test(test_toolkit_unparseable),
		cmocka_unit_test(test_report_both),
		cmocka_unit_test(test_foreign_specs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
