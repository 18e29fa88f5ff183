# The three shapes of serializers/messages.hpp for Cap'n Proto.
@0xf763dcf999f3b83e;  # from `capnp id`: every schema file needs its own

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("bench::capnp_schema");

struct Tick {
  seq @0 :UInt64;
  timestampNs @1 :Int64;
  instrument @2 :UInt32;
  quantity @3 :Int32;
  price @4 :Float64;
  symbol @5 :Text;
}

struct Level {
  price @0 :Float64;
  quantity @1 :Int64;
  orders @2 :UInt32;
}

struct BookHeader {
  seq @0 :UInt64;
  timestampNs @1 :Int64;
  venue @2 :Text;
  symbol @3 :Text;
}

struct Book {
  header @0 :BookHeader;
  bids @1 :List(Level);
  asks @2 :List(Level);
}

struct Bulk {
  ints @0 :List(Int64);
  strings @1 :List(Text);
}
