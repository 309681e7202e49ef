// A CUDA program for tools/gpu-check.sh: runs a kernel and checks its result, then measures
// host<->device copy bandwidth with pinned memory. Prints one "key value" line per figure.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define CHECK(call)                                                                        \
	do {                                                                               \
		cudaError_t e_ = (call);                                                   \
		if (e_ != cudaSuccess) {                                                   \
			printf("error %s: %s\n", #call, cudaGetErrorString(e_));          \
			return 1;                                                          \
		}                                                                          \
	} while (0)

__global__ void saxpy(int n, float a, const float *x, float *y)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n)
		y[i] = a * x[i] + y[i];
}

int main()
{
	int count = 0;
	CHECK(cudaGetDeviceCount(&count));
	cudaDeviceProp prop;
	CHECK(cudaGetDeviceProperties(&prop, 0));
	printf("devices %d\nname %s\ncc %d.%d\n", count, prop.name, prop.major, prop.minor);

	const int n = 1 << 24;
	float *x, *y, *dx, *dy;
	CHECK(cudaMallocHost(&x, n * sizeof(float)));
	CHECK(cudaMallocHost(&y, n * sizeof(float)));
	for (int i = 0; i < n; i++) {
		x[i] = 1.0f;
		y[i] = 2.0f;
	}
	CHECK(cudaMalloc(&dx, n * sizeof(float)));
	CHECK(cudaMalloc(&dy, n * sizeof(float)));
	CHECK(cudaMemcpy(dx, x, n * sizeof(float), cudaMemcpyHostToDevice));
	CHECK(cudaMemcpy(dy, y, n * sizeof(float), cudaMemcpyHostToDevice));
	saxpy<<<(n + 255) / 256, 256>>>(n, 3.0f, dx, dy);
	CHECK(cudaGetLastError());
	CHECK(cudaMemcpy(y, dy, n * sizeof(float), cudaMemcpyDeviceToHost));
	int bad = 0;
	for (int i = 0; i < n; i++)
		bad += y[i] != 5.0f;
	printf("saxpy %s (%d wrong of %d)\n", bad ? "FAILED" : "ok", bad, n);

	// bandwidth: 256 MiB pinned copies, best of 10
	const size_t bytes = 256u << 20;
	void *h, *d;
	CHECK(cudaMallocHost(&h, bytes));
	CHECK(cudaMalloc(&d, bytes));
	cudaEvent_t a, b;
	CHECK(cudaEventCreate(&a));
	CHECK(cudaEventCreate(&b));
	float best_h2d = 1e30f, best_d2h = 1e30f, ms;
	for (int r = 0; r < 10; r++) {
		CHECK(cudaEventRecord(a));
		CHECK(cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice));
		CHECK(cudaEventRecord(b));
		CHECK(cudaEventSynchronize(b));
		CHECK(cudaEventElapsedTime(&ms, a, b));
		best_h2d = ms < best_h2d ? ms : best_h2d;
		CHECK(cudaEventRecord(a));
		CHECK(cudaMemcpy(h, d, bytes, cudaMemcpyDeviceToHost));
		CHECK(cudaEventRecord(b));
		CHECK(cudaEventSynchronize(b));
		CHECK(cudaEventElapsedTime(&ms, a, b));
		best_d2h = ms < best_d2h ? ms : best_d2h;
	}
	printf("h2d_gbps %.2f\nd2h_gbps %.2f\n", bytes / (best_h2d * 1e6), bytes / (best_d2h * 1e6));
	return bad ? 2 : 0;
}
