/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon: libmicrohttpd on listening sockets nvbind opens itself (loopback TCP, a Unix
 * socket), /metrics, /healthz and /readyz, until SIGINT or SIGTERM. One lock serialises the
 * requests of both listeners: the host state is shared and a scrape is a few milliseconds.
 */
#include <microhttpd.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "serve/serve.h"

struct server {
	struct nvb_host *host;
	const struct nvb_config *cfg;
	const struct nvb_serve_opts *opts;
	struct nvb_sampler *sampler;
	pthread_mutex_t lock;
	struct nvb_host_state st;
	struct nvb_sysfs_reader sysfs; /* AMD and Intel values, read on every scrape */
	double last_scrape_s;
};

/* The host state, probed again when older than refresh_s (or always, for /readyz). */
static int refresh(struct server *srv, bool always, struct nvb_error *err)
{
	if (!always && srv->st.inv && nvb_seconds_since(&srv->st.taken) < srv->opts->refresh_s)
		return 0;
	return nvb_host_state_refresh(srv->host, srv->cfg, &srv->st, err);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     char *body)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *msg)
{
	char *body = strdup(msg);
	return body ? reply(c, status, "text/plain; charset=utf-8", body) : MHD_NO;
}

static enum MHD_Result metrics(struct server *srv, struct MHD_Connection *c)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	struct nvb_error err;
	if (refresh(srv, false, &err) < 0 && !srv->st.inv) {
		nvb_warn("serve", "%s", err.message);
		return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, err.message);
	}
	struct nvb_sample sample;
	bool fresh = nvb_sampler_collect(srv->sampler, srv->opts->deadline_ms, &sample, NULL, 0);
	size_t n_sysfs = 0;
	struct nvb_sysfs_sample *sysfs = nvb_sysfs_collect(&srv->sysfs, srv->st.inv, &n_sysfs);
	char *body = nvb_metrics_render(&srv->st, &sample, fresh, sysfs, n_sysfs,
					srv->last_scrape_s, srv->opts->state_dir);
	free(sysfs);
	nvb_sample_clear(&sample);
	srv->last_scrape_s = nvb_seconds_since(&start);
	if (!body)
		return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body);
}

static enum MHD_Result ready(struct server *srv, struct MHD_Connection *c)
{
	struct nvb_error err;
	if (refresh(srv, true, &err) < 0) {
		char *body = nvb_asprintf("{\"ready\": false, \"checks\": [{\"name\": \"host\", "
					  "\"ok\": false, \"message\": \"cannot read the host root\"}]}");
		nvb_warn("serve", "%s", err.message);
		return body ? reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", body) : MHD_NO;
	}
	struct nvb_sample sample;
	char why[256] = "";
	bool fresh = nvb_sampler_collect(srv->sampler, srv->opts->deadline_ms, &sample, why,
					 sizeof(why));
	nvb_sample_clear(&sample);
	bool ok = false;
	char *body = nvb_ready_render(&srv->st, fresh, why, &ok);
	if (!body)
		return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	return reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", body);
}

static enum MHD_Result route(struct server *srv, struct MHD_Connection *c, const char *url)
{
	if (!strcmp(url, "/metrics"))
		return metrics(srv, c);
	if (!strcmp(url, "/readyz"))
		return ready(srv, c);
	if (!strcmp(url, "/healthz")) {
		char *body = strdup("{\"alive\": true}\n");
		return body ? reply(c, MHD_HTTP_OK, "application/json", body) : MHD_NO;
	}
	if (!strcmp(url, "/"))
		return text(c, MHD_HTTP_OK, "nvbind serve: /metrics /healthz /readyz\n");
	return text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics, /healthz or /readyz\n");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct server *srv = cls;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	pthread_mutex_lock(&srv->lock);
	enum MHD_Result r = route(srv, c, url);
	pthread_mutex_unlock(&srv->lock);
	return r;
}

/* ---------------------------------------------------------------- listeners */

static int listen_tcp(const char *spec, struct nvb_error *err)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	const char *hint = "--listen takes ADDRESS:PORT, e.g. 127.0.0.1:9464 or [::1]:9464";
	if (!colon || colon == spec || !colon[1] || (size_t)(colon - spec) >= sizeof(host))
		return nvb_error_set(err, NVB_ERR_USAGE, 0, hint, "--listen %s: no ADDRESS:PORT", spec);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV}, *ai = NULL;
	int r = getaddrinfo(host, colon + 1, &hints, &ai);
	if (r != 0)
		return nvb_error_set(err, NVB_ERR_USAGE, 0, hint, "--listen %s: %s", spec,
				     gai_strerror(r));
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		int e = errno;
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return nvb_error_errno(err, e, "is another nvbind serve (or exporter) on that port?",
				       "cannot listen on %s", spec);
	}
	freeaddrinfo(ai);
	return fd;
}

static int listen_unix(const char *path, struct nvb_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "use a shorter path",
				     "--socket %s: longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path));
	struct stat sb;
	/* a socket left by a previous run is replaced; anything else at the path is not ours */
	if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode))
		unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return nvb_error_errno(err, e, "is the folder there and writable?",
				       "cannot listen on Unix socket %s", path);
	}
	return fd;
}

static struct MHD_Daemon *start(struct server *srv, int fd, struct nvb_error *err)
{
	struct MHD_Daemon *d = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, srv,
	    MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
	if (!d) {
		close(fd);
		nvb_error_set(err, NVB_ERR_IO, 0, NULL, "libmicrohttpd could not start");
	}
	return d;
}

/* The address a TCP socket got (port 0 asks the kernel for a free one). */
static void announce(int fd, const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[128], port[16];
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		printf("nvbind serve: listening on http://%s%s%s:%s\n", ss.ss_family == AF_INET6 ? "[" : "",
		       host, ss.ss_family == AF_INET6 ? "]" : "", port);
	else
		printf("nvbind serve: listening on %s\n", spec);
	fflush(stdout);
}

static int wait_for_signal(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	int sig = 0;
	while (sigwait(&set, &sig) != 0)
		;
	return sig;
}

static int serve_loop(struct server *srv, struct nvb_error *err)
{
	const struct nvb_serve_opts *o = srv->opts;
	struct MHD_Daemon *tcp = NULL, *unix_d = NULL;
	int r = -1;
	if (o->listen) {
		int fd = listen_tcp(o->listen, err);
		if (fd < 0 || !(tcp = start(srv, fd, err)))
			goto out;
		announce(fd, o->listen);
	}
	if (o->socket) {
		int fd = listen_unix(o->socket, err);
		if (fd < 0 || !(unix_d = start(srv, fd, err)))
			goto out;
		printf("nvbind serve: listening on unix:%s\n", o->socket);
		fflush(stdout);
	}
	int sig = wait_for_signal();
	nvb_info("serve", "signal %d: stopping", sig);
	r = 0;
out:
	if (tcp)
		MHD_stop_daemon(tcp);
	if (unix_d) {
		MHD_stop_daemon(unix_d);
		unlink(o->socket);
	}
	return r;
}

int nvb_serve_run(struct nvb_host *host, const struct nvb_config *cfg,
		  const struct nvb_serve_opts *opts, struct nvb_error *err)
{
	/* the signals are taken by sigwait: every thread started below inherits the block */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct server srv = {.host = host, .cfg = cfg, .opts = opts, .sysfs = {.host = host}};
	pthread_mutex_init(&srv.lock, NULL);
	if (nvb_host_state_refresh(host, cfg, &srv.st, err) < 0)
		return -1;
	_cleanup_free_ char *lib = nvb_host_state_nvml_path(host, srv.st.inv);
	srv.sampler = nvb_sampler_start(lib, err);
	int r = srv.sampler ? serve_loop(&srv, err) : -1;
	nvb_sampler_stop(srv.sampler);
	nvb_host_state_clear(&srv.st);
	nvb_sysfs_reader_clear(&srv.sysfs);
	pthread_mutex_destroy(&srv.lock);
	return r;
}
