/* Lists the MIDI files below a folder, in the order a depth-first walk over sorted names gives. */
#ifndef MRNN_DIR_WALK_H
#define MRNN_DIR_WALK_H

#include <stddef.h>

#include "musicrnn/musicrnn.h"

typedef struct mrnn__path_list {
    char **rel; /* paths relative to the root, '/'-separated */
    size_t n, cap;
} mrnn__path_list;

/* Append to *out the relative paths of the .mid/.midi/.smf files below root (which has no
 * trailing slash). Iterative: no recursion, one folder open at a time, symbolic links to folders
 * skipped (loops). Errors name the folder that could not be listed. */
mrnn_status mrnn__dir_walk(const char *root, mrnn__path_list *out);
void mrnn__path_list_free(mrnn__path_list *l);

#endif
