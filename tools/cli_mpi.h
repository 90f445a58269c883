/* Data-parallel training for `mpirun -np N musicrnn train ...`: the MPI side of the library's
 * allreduce callback (mrnn_train_params.allreduce). Built with Open MPI when meson finds it
 * (option `mpi`); without it these report "not launched by mpirun" and the program runs alone. */
#ifndef MUSICRNN_CLI_MPI_H
#define MUSICRNN_CLI_MPI_H

#include <stddef.h>
#include <stdint.h>

/* If this process was started by mpirun/mpiexec, initialise MPI and return 1 with its rank and the
 * number of ranks; otherwise 0 (MPI is then never touched, so a plain run needs no launcher).
 * *overlap != 0 asks for the thread level the overlapped allreduce needs (MPI_THREAD_SERIALIZED);
 * when MPI does not give it, *overlap is set to 0 and rank 0 says so on stderr. */
int cli_mpi_start(uint32_t *rank, uint32_t *n_ranks, int *overlap);
/* In-place sum over MPI_COMM_WORLD; the signature of mrnn_allreduce_fn. */
int cli_mpi_allreduce(float *data, size_t count, void *user_data);
/* Seconds spent inside cli_mpi_allreduce so far, and its calls (for the benchmark line). */
double cli_mpi_allreduce_seconds(uint64_t *calls);
/* Finalise MPI if cli_mpi_start initialised it. */
void cli_mpi_stop(void);

#endif
