#!/usr/bin/python3
"""The same library through cffi instead of ctypes: the public header is cdef-able as it is.

    cffi_version.py /usr/local/include/musicrnn/musicrnn.h [libmusicrnn.so.0]
"""
import subprocess
import sys

import cffi

header = sys.argv[1] if len(sys.argv) > 1 else "/usr/local/include/musicrnn/musicrnn.h"
library = sys.argv[2] if len(sys.argv) > 2 else "libmusicrnn.so.0"
# MRNN_NO_SYSTEM_INCLUDES: skip <stdint.h>/<stddef.h>, whose expansion cffi cannot parse and whose
# types cffi knows already.
decls = subprocess.run(["cc", "-E", "-P", "-DMRNN_API=", "-DMRNN_NO_SYSTEM_INCLUDES", header],
                       check=True, capture_output=True, text=True).stdout
ffi = cffi.FFI()
ffi.cdef(decls)
lib = ffi.dlopen(library)

print("libmusicrnn", ffi.string(lib.mrnn_version_string()).decode())
vocab = ffi.new("mrnn_vocab **")
enc = ffi.new("mrnn_encoding_params *")
lib.mrnn_encoding_params_init(enc, 1)  # MRNN_ENCODING_PARAMS_VERSION: #defines do not survive cc -E
enc.encoding = lib.MRNN_ENCODING_PERFORMANCE
if lib.mrnn_vocab_create(vocab, enc) != lib.MRNN_OK:
    sys.exit(ffi.string(lib.mrnn_last_error()).decode())
print("performance vocabulary:", lib.mrnn_vocab_size(vocab[0]), "tokens, id 60 is",
      ffi.string(lib.mrnn_vocab_token_text(vocab[0], 60)).decode())
lib.mrnn_vocab_free(vocab[0])
