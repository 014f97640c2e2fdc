/*
 * Microkit's limits that more than one program of the runtime checks against, each defined
 * once here (the TypeScript side has them in src/compile/facts.ts): Microkit 2.0.1
 * libmicrokit/include/microkit.h has MICROKIT_MAX_CHANNELS = 62, so channel ids are 0..61.
 * Only the compiler's headers: the config checkers include it without microkit.h.
 */
#pragma once

#define MICROKIT_LIMIT_MAX_CHANNEL  61u
