/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NVML sampler of nvbind serve. NVML is dlopen'ed from the host root (as the probe does,
 * src/probe/nvidia/nvml.c) and called from one worker thread only: nvmlInit can take seconds
 * without persistence mode and a wedged GPU can hang any call, so a scrape asks the worker for
 * a sample and waits at most its deadline; the last good sample is served with its age.
 */

#include "serve/serve.h"

typedef void *nvml_device;
struct nvml_memory {
	unsigned long long total, free, used;
};
struct nvml_utilization {
	unsigned gpu, memory;
};

enum {
	NVML_OK = 0,
	NVML_INSUFFICIENT_SIZE = 7,
	NVML_TEMPERATURE_GPU = 0,
	NVML_CLOCK_SM = 1,
	NVML_ECC_CORRECTED = 0,
	NVML_ECC_UNCORRECTED = 1,
	NVML_AGGREGATE_ECC = 1,
	NVML_RETIRED_SBE = 0, /* NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS */
	NVML_RETIRED_DBE = 1, /* NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR */
};

struct nvml_fns {
	int (*init)(void);
	int (*count)(unsigned *);
	int (*by_index)(unsigned, nvml_device *);
	int (*uuid)(nvml_device, char *, unsigned);
	int (*util)(nvml_device, struct nvml_utilization *);
	int (*memory)(nvml_device, struct nvml_memory *);
	int (*temp)(nvml_device, int, unsigned *);
	int (*power)(nvml_device, unsigned *);
	int (*clock)(nvml_device, int, unsigned *);
	int (*ecc)(nvml_device, int, int, unsigned long long *);
	int (*retired)(nvml_device, int, unsigned *, unsigned long long *);
	int (*throttle)(nvml_device, unsigned long long *);
};

struct nvb_sampler {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop, busy, initialized;
	unsigned long requested, completed; /* sample generations */
	struct nvb_sample last;             /* the last good sample */
	char error[256];                    /* why the last attempt failed; "" when it did not */
	char *lib;
	void *handle;
	struct nvml_fns f;
};

double nvb_seconds_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

void nvb_sample_clear(struct nvb_sample *sample)
{
	free(sample->gpus);
	memset(sample, 0, sizeof(*sample));
}

static int sample_copy(struct nvb_sample *dst, const struct nvb_sample *src)
{
	*dst = *src;
	dst->gpus = NULL;
	if (!src->n_gpus)
		return 0;
	dst->gpus = malloc(src->n_gpus * sizeof(*src->gpus));
	if (!dst->gpus) {
		dst->n_gpus = 0;
		dst->valid = false;
		return -1;
	}
	memcpy(dst->gpus, src->gpus, src->n_gpus * sizeof(*src->gpus));
	return 0;
}

#define LOAD(field, name) (*(void **)(&s->f.field) = nvb_dlsym(s->handle, name))

/* dlopen and nvmlInit, in the worker (both may block). Returns false with s->error set. */
static bool nvml_open(struct nvb_sampler *s, char *error, size_t cap)
{
	if (!s->handle && !(s->handle = nvb_dlopen(s->lib))) {
		snprintf(error, cap, "cannot load %s: %s", s->lib, nvb_dlerror());
		return false;
	}
	LOAD(init, "nvmlInit_v2");
	LOAD(count, "nvmlDeviceGetCount_v2");
	LOAD(by_index, "nvmlDeviceGetHandleByIndex_v2");
	LOAD(uuid, "nvmlDeviceGetUUID");
	LOAD(util, "nvmlDeviceGetUtilizationRates");
	LOAD(memory, "nvmlDeviceGetMemoryInfo");
	LOAD(temp, "nvmlDeviceGetTemperature");
	LOAD(power, "nvmlDeviceGetPowerUsage");
	LOAD(clock, "nvmlDeviceGetClockInfo");
	LOAD(ecc, "nvmlDeviceGetTotalEccErrors");
	LOAD(retired, "nvmlDeviceGetRetiredPages");
	/* renamed in CUDA 12.2's NVML; the old name stays for older drivers */
	if (!LOAD(throttle, "nvmlDeviceGetCurrentClocksEventReasons"))
		LOAD(throttle, "nvmlDeviceGetCurrentClocksThrottleReasons");
	if (!s->f.init || !s->f.count || !s->f.by_index || !s->f.uuid) {
		snprintf(error, cap, "%s lacks the basic NVML entry points", s->lib);
		return false;
	}
	int r = s->f.init();
	if (r != NVML_OK) {
		snprintf(error, cap, "nvmlInit_v2 failed (NVML error %d): is the driver loaded?", r);
		return false;
	}
	return true;
}

static void sample_gpu(const struct nvml_fns *f, nvml_device dev, struct nvb_gpu_sample *g)
{
	struct nvml_utilization u;
	struct nvml_memory m;
	if (f->util && f->util(dev, &u) == NVML_OK) {
		g->has_util = true;
		g->util_gpu = u.gpu;
		g->util_memory = u.memory;
	}
	if (f->memory && f->memory(dev, &m) == NVML_OK) {
		g->has_memory = true;
		g->memory_used = m.used;
		g->memory_total = m.total;
	}
	g->has_temp = f->temp && f->temp(dev, NVML_TEMPERATURE_GPU, &g->temp_c) == NVML_OK;
	g->has_power = f->power && f->power(dev, &g->power_mw) == NVML_OK;
	g->has_clock = f->clock && f->clock(dev, NVML_CLOCK_SM, &g->sm_clock_mhz) == NVML_OK;
	g->has_ecc = f->ecc &&
		     f->ecc(dev, NVML_ECC_CORRECTED, NVML_AGGREGATE_ECC, &g->ecc_corrected) == NVML_OK &&
		     f->ecc(dev, NVML_ECC_UNCORRECTED, NVML_AGGREGATE_ECC, &g->ecc_uncorrected) ==
			 NVML_OK;
	/* a count of 0 with no buffer asks for the number only */
	int r1 = f->retired ? f->retired(dev, NVML_RETIRED_SBE, &g->retired_sbe, NULL) : -1;
	int r2 = f->retired ? f->retired(dev, NVML_RETIRED_DBE, &g->retired_dbe, NULL) : -1;
	g->has_retired = (r1 == NVML_OK || r1 == NVML_INSUFFICIENT_SIZE) &&
			 (r2 == NVML_OK || r2 == NVML_INSUFFICIENT_SIZE);
	g->has_throttle = f->throttle && f->throttle(dev, &g->throttle) == NVML_OK;
}

/* One sample, outside the lock. Returns false with error set. */
static bool take_sample(struct nvb_sampler *s, struct nvb_sample *out, char *error, size_t cap)
{
	if (!s->initialized && !(s->initialized = nvml_open(s, error, cap)))
		return false;
	unsigned count = 0;
	int r = s->f.count(&count);
	if (r != NVML_OK) {
		snprintf(error, cap, "nvmlDeviceGetCount_v2 failed (NVML error %d)", r);
		return false;
	}
	if (count > 1024)
		count = 1024;
	out->gpus = count ? calloc(count, sizeof(*out->gpus)) : NULL;
	if (count && !out->gpus) {
		snprintf(error, cap, "out of memory");
		return false;
	}
	for (unsigned i = 0; i < count; i++) {
		nvml_device dev;
		struct nvb_gpu_sample *g = &out->gpus[out->n_gpus];
		if (s->f.by_index(i, &dev) != NVML_OK || s->f.uuid(dev, g->uuid, sizeof(g->uuid)) != NVML_OK)
			continue;
		g->uuid[sizeof(g->uuid) - 1] = '\0';
		sample_gpu(&s->f, dev, g);
		out->n_gpus++;
	}
	clock_gettime(CLOCK_MONOTONIC, &out->taken);
	out->valid = true;
	return true;
}

static void *worker(void *arg)
{
	struct nvb_sampler *s = arg;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->stop && s->requested == s->completed)
			pthread_cond_wait(&s->cond, &s->lock);
		if (s->stop)
			break;
		unsigned long gen = s->requested;
		s->busy = true;
		pthread_mutex_unlock(&s->lock);
		struct nvb_sample fresh = {0};
		char error[256] = "";
		bool ok = take_sample(s, &fresh, error, sizeof(error));
		pthread_mutex_lock(&s->lock);
		if (ok) {
			nvb_sample_clear(&s->last);
			s->last = fresh;
		} else {
			nvb_sample_clear(&fresh);
		}
		snprintf(s->error, sizeof(s->error), "%s", error);
		s->busy = false;
		s->completed = gen;
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

struct nvb_sampler *nvb_sampler_start(const char *lib, struct nvb_error *err)
{
	struct nvb_sampler *s = calloc(1, sizeof(*s));
	if (!s || (lib && !(s->lib = strdup(lib)))) {
		free(s);
		nvb_error_nomem(err);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (!lib)
		return s; /* no worker: nothing to call */
	int r = pthread_create(&s->thread, NULL, worker, s);
	if (r != 0) {
		free(s->lib);
		free(s);
		nvb_error_errno(err, r, NULL, "cannot start the NVML sampler thread");
		return NULL;
	}
	return s;
}

bool nvb_sampler_collect(struct nvb_sampler *s, unsigned deadline_ms, struct nvb_sample *out,
			 char *why, size_t why_cap)
{
	memset(out, 0, sizeof(*out));
	if (!s->lib) {
		if (why)
			snprintf(why, why_cap, "libnvidia-ml.so.1 not found under the host root");
		return false;
	}
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += deadline_ms / 1000;
	until.tv_nsec += (long)(deadline_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	/* a sample in flight is the one to wait for: a hung call is not asked again and again */
	unsigned long want = s->busy ? s->requested : ++s->requested;
	pthread_cond_broadcast(&s->cond);
	int r = 0;
	while (s->completed < want && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&s->cond, &s->lock, &until);
	bool fresh = s->completed >= want && !s->error[0];
	if (why) {
		if (s->completed < want)
			snprintf(why, why_cap, "NVML did not answer within %u ms", deadline_ms);
		else
			snprintf(why, why_cap, "%s", s->error);
	}
	if (sample_copy(out, &s->last) < 0)
		fresh = false;
	pthread_mutex_unlock(&s->lock);
	return fresh;
}

void nvb_sampler_stop(struct nvb_sampler *s)
{
	if (!s)
		return;
	if (s->lib) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		bool hung = s->busy;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
		if (hung) {
			/* the worker is inside NVML and owns s: leave both to the exit */
			pthread_detach(s->thread);
			return;
		}
		pthread_join(s->thread, NULL);
	}
	nvb_sample_clear(&s->last);
	free(s->lib);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}
