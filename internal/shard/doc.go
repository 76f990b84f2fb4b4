// Package shard splits the Mydemos among crddemo's replicas by the hash of
// their UID, the way the API server's sharded list and watch (KEP-5866, the
// alpha ShardedListAndWatch feature gate) does: Split cuts the 64-bit hash
// space into ranges, and Restrict makes a ListWatch that asks the API server
// for one range and keeps only that range's objects whatever it answers.
//
// What kube-apiserver v1.37.2 does, as the integration test and a probe of
// the real server found:
//
//   - Bounds must be 0x followed by exactly 16 lowercase hex digits; the top
//     range ends with the one 17-digit bound allowed, '0x10000000000000000'
//     (2^64), which includes hash 0xffffffffffffffff. A short ('0x0'),
//     uppercase, longer or other 17-digit bound, an empty range, a field
//     other than object.metadata.uid or .namespace, or any other text is
//     rejected with 500 Internal Error, "invalid shard selector: ...", on list
//     and watch alike.
//   - With the gate off, the selector is ignored, malformed or not: every
//     object comes back, with no error.
//   - With the gate on, lists, watches and watch-lists (sendInitialEvents, the
//     reflector's default) all honour it.
//   - Lists of custom resources carry no metadata.shardInfo even with the gate
//     on: the server sets it only on list types that implement
//     metav1.ShardedListInterface, which unstructured.UnstructuredList does
//     not. So an answer never shows whether it was sharded; only an object
//     outside the range does, which is why Restrict filters and reports it.
package shard
