/* Open MPI glue for data-parallel training (see cli_mpi.h). Only the program links MPI: the
 * library takes the allreduce as a callback. */
#include "cli_mpi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef MUSICRNN_HAVE_MPI
#include <mpi.h>

static int started;
static double reduce_seconds;
static uint64_t reduce_calls;
/* MUSICRNN_MPI_SIMULATE=NODES:GBPS:HOP_US (a benchmark's aid, bench/mpi.sh): after each real
 * allreduce, sleep for what a ring allreduce of the same buffer would take on that cluster, so
 * that one machine shows what the overlap hides. 0 nodes: off. */
static double sim_nodes, sim_bytes_per_s, sim_hop_s;

static void simulate_setup(void)
{
    const char *e = getenv("MUSICRNN_MPI_SIMULATE");
    double n, gbps, hop_us;
    if (!e || sscanf(e, "%lf:%lf:%lf", &n, &gbps, &hop_us) != 3 || !(n >= 2) || !(gbps > 0) || !(hop_us >= 0)) return;
    sim_nodes = n;
    sim_bytes_per_s = gbps * 1e9 / 8;
    sim_hop_s = hop_us * 1e-6;
}

/* A ring allreduce sends 2(N-1)/N of the buffer through each link and makes 2(N-1) hops. */
static void simulate_transfer(size_t count)
{
    if (sim_nodes < 2) return;
    double steps = 2 * (sim_nodes - 1);
    double s = steps / sim_nodes * 4.0 * (double)count / sim_bytes_per_s + steps * sim_hop_s;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static int launched_by_mpirun(void)
{
    /* Open MPI's launcher sets OMPI_COMM_WORLD_SIZE; PMI/PMIx launchers (Slurm's srun, MPICH's
     * Hydra) set PMI_SIZE or PMIX_RANK. MPI_Init without them would start a singleton. */
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

static const char *level_name(int level)
{
    switch (level) {
    case MPI_THREAD_SINGLE: return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED: return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED: return "MPI_THREAD_SERIALIZED";
    default: return "MPI_THREAD_MULTIPLE";
    }
}

int cli_mpi_start(uint32_t *rank, uint32_t *n_ranks, int *overlap)
{
    *rank = 0;
    *n_ranks = 1;
    if (!launched_by_mpirun()) return 0;
    /* The overlapped allreduce calls MPI from the library's reducer thread, never two calls at
     * once: MPI_THREAD_SERIALIZED is enough, and MULTIPLE would make every call take locks. */
    int provided = MPI_THREAD_SINGLE;
    int rc = *overlap ? MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided) : MPI_Init(NULL, NULL);
    if (rc != MPI_SUCCESS) return 0;
    started = 1;
    int r = 0, n = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    *rank = (uint32_t)r;
    *n_ranks = (uint32_t)n;
    simulate_setup();
    if (*overlap && provided < MPI_THREAD_SERIALIZED) {
        if (r == 0)
            fprintf(stderr, "musicrnn train: this MPI gives %s, the overlap needs MPI_THREAD_SERIALIZED; "
                    "reducing after the backward pass instead\n", level_name(provided));
        *overlap = 0;
    }
    return 1;
}

int cli_mpi_allreduce(float *data, size_t count, void *user_data)
{
    (void)user_data;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    /* One call per step for the whole fused buffer; counts beyond INT_MAX go in pieces. */
    int rc = MPI_SUCCESS;
    const size_t total = count;
    while (count > 0 && rc == MPI_SUCCESS) {
        int n = count > (size_t)1 << 30 ? 1 << 30 : (int)count;
        rc = MPI_Allreduce(MPI_IN_PLACE, data, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        data += n;
        count -= (size_t)n;
    }
    if (rc == MPI_SUCCESS) simulate_transfer(total);
    clock_gettime(CLOCK_MONOTONIC, &b);
    reduce_seconds += (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
    reduce_calls++;
    return rc == MPI_SUCCESS ? 0 : -1;
}

double cli_mpi_allreduce_seconds(uint64_t *calls)
{
    *calls = reduce_calls;
    return reduce_seconds;
}

void cli_mpi_stop(void)
{
    if (started) MPI_Finalize();
    started = 0;
}

#else

int cli_mpi_start(uint32_t *rank, uint32_t *n_ranks, int *overlap)
{
    (void)overlap;
    *rank = 0;
    *n_ranks = 1;
    return 0;
}

int cli_mpi_allreduce(float *data, size_t count, void *user_data)
{
    (void)data;
    (void)count;
    (void)user_data;
    return -1;
}

double cli_mpi_allreduce_seconds(uint64_t *calls)
{
    *calls = 0;
    return 0;
}

void cli_mpi_stop(void) {}

#endif
