#include "musicrnn/musicrnn.h"

MRNN_API uint32_t mrnn_version_number(void)
{
    return MRNN_VERSION_NUMBER;
}

MRNN_API const char *mrnn_version_string(void)
{
    return MRNN_VERSION_STRING;
}
