// Package rtpjpeg turns baseline JPEG images into RTP/JPEG payloads.
//
// Specification: RFC 2435 (RTP Payload Format for JPEG-compressed Video).
// The format carries only the entropy-coded scan data plus a small header;
// the receiver rebuilds the JPEG headers from the type, the size and the
// quantization tables. This only works for JPEGs that use the standard
// (Annex K) Huffman tables, at most two quantization tables and 4:2:2 or
// 4:2:0 sampling. Parse checks a JPEG against these rules without decoding
// it; Normalize re-encodes a JPEG that does not fit.
package rtpjpeg
