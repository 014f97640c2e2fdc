/* A minimal Microkit protection domain: the program image every PD of the benchmark system uses. */
#include <microkit.h>

void init(void)
{
}

void notified(microkit_channel ch)
{
    (void)ch;
}
