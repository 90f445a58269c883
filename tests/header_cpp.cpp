// The public header must compile as C++ (extern "C", no C-only constructs).
#include <musicrnn/musicrnn.h>

int main()
{
    mrnn_model *m = nullptr;
    mrnn_model_params p;
    (void)m;
    (void)p;
    return MRNN_VERSION_NUMBER > 0 ? 0 : 1;
}
