/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the CDI reader and writer. The first input byte picks the origin (odd:
 * "fuzz.yaml", even: "fuzz.json"; the seeds start with 'y' and 'j'), the rest is the spec text.
 * Any input must parse or fail with a parse/invalid error naming the origin; a parsed spec must
 * validate without crashing, give a known minimum version, be written as JSON and YAML, and both
 * texts must read back to a spec that is written the same way again and validates the same.
 * Seed: corpus/cdi/ (small specs).
 */
#include <stddef.h>
#include <stdint.h>

#include "cdi/cdi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct count {
	const char *origin;
	int n;
};

static void on_problem(void *ctx, const char *message)
{
	struct count *c = ctx;
	if (!nvb_str_has_prefix(message, c->origin) || message[strlen(c->origin)] != ':')
		abort(); /* every problem names the file */
	c->n++;
}

static int validate(const struct nvb_cdi_spec *spec)
{
	struct nvb_error err = {0};
	struct count c = {.origin = spec->origin};
	int n = nvb_cdi_validate(spec, on_problem, &c, &err);
	if (n < 0 || n != c.n || (n > 0 && err.code != NVB_ERR_INVALID) || (n == 0 && err.code))
		abort();
	return n;
}

static const char *const versions[] = {"0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0", "1.1.0"};

/* Write spec as fmt, read it back as origin; the re-read spec writes the same text. */
static void round_trip(const struct nvb_cdi_spec *spec, enum nvb_cdi_format fmt, const char *origin,
		       int problems)
{
	struct nvb_error err = {0};
	char *text = nvb_cdi_spec_format(spec, fmt, &err);
	if (!text) {
		/* only YAML may refuse, for trees its reader would refuse (too deep) */
		if (fmt != NVB_CDI_YAML || err.code != NVB_ERR_INVALID)
			abort();
		return;
	}
	struct nvb_cdi_spec *again = nvb_cdi_spec_parse(text, strlen(text), origin, &err);
	if (!again) {
		fprintf(stderr, "written spec does not read back: %s\n%s\n", err.message, text);
		abort();
	}
	char *text2 = nvb_cdi_spec_format(again, fmt, &err);
	if (!text2 || strcmp(text, text2) != 0) {
		fprintf(stderr, "written spec changes on a second round:\n%s\n---\n%s\n", text,
			text2 ? text2 : err.message);
		abort();
	}
	if (validate(again) != problems) {
		fprintf(stderr, "validation differs after a round trip:\n%s\n", text);
		abort();
	}
	free(text2);
	free(text);
	nvb_cdi_spec_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the reader's warnings (hooks without env, ...) are not per-input results: a line per
	 * execution only slows the fuzzer down */
	nvb_log_current = NVB_LOG_ERROR;
	if (size == 0)
		return 0;
	const char *origin = (data[0] & 1) ? "fuzz.yaml" : "fuzz.json";
	struct nvb_error err = {0};
	struct nvb_cdi_spec *spec = nvb_cdi_spec_parse((const char *)data + 1, size - 1, origin, &err);
	if (!spec) {
		if ((err.code != NVB_ERR_PARSE && err.code != NVB_ERR_INVALID) ||
		    !nvb_str_has_prefix(err.message, origin)) {
			fprintf(stderr, "bad error %s: %s\n", nvb_errc_name(err.code), err.message);
			abort();
		}
		return 0;
	}
	if (strcmp(spec->origin, origin) != 0 || !spec->cdi_version || !spec->kind)
		abort();
	int problems = validate(spec);

	const char *min = nvb_cdi_min_version(spec);
	bool known = false;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		known = known || strcmp(min, versions[i]) == 0;
	if (!known)
		abort();

	round_trip(spec, NVB_CDI_JSON, "rt.json", problems);
	round_trip(spec, NVB_CDI_YAML, "rt.yaml", problems);
	nvb_cdi_spec_free(spec);
	return 0;
}
