# ay_embed_sql(TARGET VAR DIR): compiles DIR/*.sql into TARGET as the
# statement set VAR (const struct ay_pg_stmt VAR[], size_t VAR_count);
# see cmake/embed_stmts.cmake. Declare them in the service's store.h.
# The set is generated again when a file changes, or when one is added,
# removed or renamed (a list of the names, rewritten at configure time only
# when it differs, is among the dependencies: a moved file keeps its old
# modification time).
function(ay_embed_sql target var dir)
  file(GLOB sql_files CONFIGURE_DEPENDS ${dir}/*.sql)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${var}_data.c)
  set(list_file ${CMAKE_CURRENT_BINARY_DIR}/${var}_files.txt)
  string(REPLACE ";" "\n" names "${sql_files}")
  if(EXISTS ${list_file})
    file(READ ${list_file} old_names)
  else()
    set(old_names "")
  endif()
  if(NOT old_names STREQUAL names)
    file(WRITE ${list_file} "${names}")
  endif()
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DSRC_DIR=${dir} -DOUT=${out} -DVAR=${var}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_stmts.cmake
    DEPENDS ${sql_files} ${list_file} ${PROJECT_SOURCE_DIR}/cmake/embed_stmts.cmake
    COMMENT "embedding ${var} from ${dir}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
