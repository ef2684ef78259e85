# Lexical index (Xapian) and autocomplete. Included from src/index/CMakeLists.txt.
# Xapian is linked here only: nothing outside index/ includes <xapian.h>.
set(_lex_dir ${CMAKE_CURRENT_LIST_DIR})
if(EXISTS ${_lex_dir}/lexical_index.cc AND EXISTS ${_lex_dir}/autocomplete.cc)
  souk_library(souk_index_lexical
    SOURCES ${_lex_dir}/lexical_index.cc ${_lex_dir}/autocomplete.cc
    DEPS souk_text souk_common PkgConfig::XAPIAN)

  if(EXISTS ${_lex_dir}/lexical_index_test.cc)
    souk_test(lexical_index_test
      SOURCES ${_lex_dir}/lexical_index_test.cc
      DEPS souk_index_lexical souk_ingest_readers TIMEOUT 600)
  endif()
  if(EXISTS ${_lex_dir}/autocomplete_test.cc)
    souk_test(autocomplete_test
      SOURCES ${_lex_dir}/autocomplete_test.cc
      DEPS souk_index_lexical souk_ingest_readers TIMEOUT 300)
  endif()
endif()
