# The Debian package: `cd build && cpack -G DEB` writes vouch_VERSION_ARCH.deb
# holding only the install component "vouch" (cli/CMakeLists.txt: the
# executable in /usr/bin, vouch(1), the bash and zsh completions, the
# documents); tests, benchmarks and vouch-gen are never installed. Its
# dependencies come from the libraries the executable links, by
# dpkg-shlibdeps (dpkg-dev). scripts/test-deb.sh installs it on a fresh
# Debian 12 and removes it again.
set(VOUCH_DEB_MAINTAINER "vouch maintainers <vouch-maintainers@example.org>"
    CACHE STRING "The Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vouch)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${VOUCH_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "integrity verification for PostgreSQL backups and restores")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Only the component "vouch" of this build tree, as one package.
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};vouch;vouch;/")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # vouch_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${VOUCH_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The synopsis line is CPACK_PACKAGE_DESCRIPTION_SUMMARY; this is the rest.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "vouch proves that a PostgreSQL restore, or a backup not restored yet, holds
exactly the data it should: per-table row counts and content hashes, and one
final validation hash that is the same for the same data whatever the source.
It reads databases, pg_dump archives, plain dumps and base backups, runs DR
drills and restore tests, and writes signed evidence for the report.")
set(CPACK_STRIP_FILES ON)

include(CPack)
