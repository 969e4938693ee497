/* SPDX-License-Identifier: MIT */
/* version.h: tern's version, shown by `tern version` and IMAP ID. */
#ifndef TERN_LIB_VERSION_H
#define TERN_LIB_VERSION_H

#define TERN_VERSION "0.1.0"

#endif
