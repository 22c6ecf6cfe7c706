#!/usr/bin/perl
# Write a real PNG image of about 50 KB to stdout: 128x128 pixels, 8-bit
# RGB, of synthetic noise (no person's picture), its IDAT stored without
# compression so that the size is predictable. Every chunk has its right
# CRC and the zlib stream its right Adler-32, so any PNG reader opens it.
#   perl gen-photo.pl [SEED] > photo.png
# Only perl-base is needed (no zlib module).
use strict;
use warnings;

my $seed = shift // 1;
my ($w, $h) = (128, 128);
my @crc;
for my $n (0 .. 255) {
	my $c = $n;
	for (1 .. 8) { $c = ($c & 1) ? (0xEDB88320 ^ ($c >> 1)) : ($c >> 1); }
	$crc[$n] = $c;
}
sub crc32 {
	my $c = 0xFFFFFFFF;
	$c = $crc[($c ^ $_) & 0xFF] ^ ($c >> 8) for unpack('C*', $_[0]);
	return $c ^ 0xFFFFFFFF;
}
sub adler32 {
	my ($a, $b) = (1, 0);
	for (unpack('C*', $_[0])) { $a = ($a + $_) % 65521; $b = ($b + $a) % 65521; }
	return ($b << 16) | $a;
}
sub chunk {
	my ($type, $data) = @_;
	return pack('N', length $data) . $type . $data . pack('N', crc32($type . $data));
}

# A small linear congruential generator: the same seed, the same image.
my $x = $seed & 0x7FFFFFFF;
my $raw = '';
for my $y (0 .. $h - 1) {
	$raw .= "\0";    # filter type: none
	for (1 .. $w * 3) {
		$x = (1103515245 * $x + 12345) & 0x7FFFFFFF;
		$raw .= chr(($x >> 16) & 0xFF);
	}
}
# zlib header, one stored deflate block per 65535 bytes, Adler-32.
my $z = "\x78\x01";
for (my $off = 0; $off < length $raw; $off += 65535) {
	my $part = substr($raw, $off, 65535);
	my $last = $off + 65535 >= length $raw ? 1 : 0;
	$z .= pack('C v v', $last, length $part, ~(length $part) & 0xFFFF) . $part;
}
$z .= pack('N', adler32($raw));
binmode STDOUT;
print "\x89PNG\r\n\x1a\n",
      chunk('IHDR', pack('N N C C C C C', $w, $h, 8, 2, 0, 0, 0)),
      chunk('IDAT', $z),
      chunk('IEND', '');
