# What scripts/pgchroot.sh and scripts/test-deb.sh share, sourced by both
# after they set CHROOT_TOOL (their name, for messages).

# The first command in each private mount namespace: its mounts must not
# reach the machine's. unshare -m makes every mount private itself, but fails
# where / is not a mount point (inside a chroot, as on a fresh-machine test);
# there it keeps the propagation as it is, which is safe unless the chroot's
# mount ($r, in the namespace's shell) is shared with the outside.
PRIVATE_MOUNTS='mount --make-rprivate / 2>/dev/null || case "$(findmnt -n -o PROPAGATION -T "$r" 2>/dev/null)" in shared*) echo "'"$CHROOT_TOOL"': $r is on a shared mount; its bind mounts would leak out" >&2; exit 97 ;; esac'

# The Debian mirror this machine's apt already uses.
mirror() {
  local m
  m=$(grep -hoE '^URIs: *[^ ]+' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | awk '{print $2}' || true)
  [ -n "$m" ] || m=$(grep -hoE '^deb +[^ ]+' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}' || true)
  [ -n "$m" ] || { echo "$CHROOT_TOOL: no Debian mirror in this machine's apt configuration" >&2; return 1; }
  echo "$m"
}
