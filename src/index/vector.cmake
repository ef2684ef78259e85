# souk_index_vector: the vector index (Faiss HNSW). Faiss is linked here only.
souk_library(souk_index_vector
  SOURCES vector_index.cc
  DEPS faiss OpenMP::OpenMP_CXX souk_common)

# Fast unit suite (small data, every behaviour).
souk_test(vector_index_test
  SOURCES vector_index_test.cc
  DEPS souk_index_vector)

# recall@10 on 50k clustered vectors of dim 64 at default settings (~tens of seconds).
souk_test(vector_index_recall_test
  SOURCES vector_index_test.cc
  DEPS souk_index_vector LABELS slow TIMEOUT 900)
if(TARGET vector_index_recall_test)
  target_compile_definitions(vector_index_recall_test PRIVATE SOUK_VECTOR_INDEX_SLOW_TESTS=1)
endif()
