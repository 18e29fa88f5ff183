// `bench serve`: the server side of two-host runs (`bench run ipc --peer HOST:PORT` on the other machine).
#pragma once

#include <string>

namespace bench {

struct serve_options {
  std::string listen;   // ADDR:PORT, ADDR or :PORT; empty: 127.0.0.1 and the default port
  int max_clients = 1;  // clients served at once; one more gets a "busy" answer
};

// Checks the options without doing anything (throws usage_error): the address, and that a non-loopback address
// was asked for explicitly.
void check_serve_options(const serve_options& opt);

// Serves until SIGINT or SIGTERM. Each client's session runs in a forked process of its own (a client can crash
// only its own session; its case's model may fork again below it); the listening process only accepts, answers
// "busy" beyond max_clients, and reaps. Returns the exit status: 0 after Ctrl-C, having stopped every session.
int run_serve(const serve_options& opt);

}  // namespace bench
