#!/usr/bin/perl
# pgbr_edit.pl MANIFEST KEY FIELD=JSON...: sets fields of the [target:file]
# entry KEY of a pgBackRest backup.manifest (a JSON value each, e.g.
# size=8192 checksum='"ab12..."') and reseals the file: its [backrest]
# backrest-checksum is the SHA-1 of the content written as one JSON object,
# sections and keys in file order. The tests make damage that only page
# checksums catch with it; `pgbackrest verify` accepting the result is what
# proves the seal right.
use strict;
use warnings;
use Digest::SHA qw(sha1_hex);

my ($path, $key, @sets) = @ARGV;
open(my $in, '<', $path) or die "$path: $!";
my @lines = <$in>;
close $in;
chomp @lines;
my $section = '';
my $found = 0;
for my $line (@lines) {
  if ($line =~ /^\[(.*)\]$/) { $section = $1; next; }
  next unless $section eq 'target:file' && $line =~ /^\Q$key\E=/;
  for my $set (@sets) {
    my ($field, $value) = split /=/, $set, 2;
    $line =~ s/"\Q$field\E":("[^"]*"|[^,}]*)/"$field":$value/ or die "$key has no $field";
  }
  $found = 1;
}
die "no [target:file] entry $key" unless $found;
# The seal.
my (@order, %values);
$section = '';
for my $line (@lines) {
  next if $line eq '';
  if ($line =~ /^\[(.*)\]$/) { $section = $1; push @order, $section unless exists $values{$section}; $values{$section} //= []; next; }
  my ($k, $v) = split /=/, $line, 2;
  next if $section eq 'backrest' && $k eq 'backrest-checksum';
  push @{$values{$section}}, "\"$k\":$v";
}
my $json = '{' . join(',', map { "\"$_\":{" . join(',', @{$values{$_}}) . '}' } grep { @{$values{$_}} } @order) . '}';
my $sum = sha1_hex($json);
s/^backrest-checksum=.*/backrest-checksum="$sum"/ for @lines;
open(my $out, '>', $path) or die "$path: $!";
print $out join("\n", @lines), "\n";
close $out;
