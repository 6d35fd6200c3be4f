# ay_embed_sql(TARGET VAR DIR): compiles DIR/*.sql into TARGET as the
# statement set VAR (const struct ay_pg_stmt VAR[], size_t VAR_count);
# see cmake/embed_stmts.cmake. Declare them in the service's store.h.
function(ay_embed_sql target var dir)
  file(GLOB sql_files CONFIGURE_DEPENDS ${dir}/*.sql)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${var}_data.c)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DSRC_DIR=${dir} -DOUT=${out} -DVAR=${var}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_stmts.cmake
    DEPENDS ${sql_files} ${PROJECT_SOURCE_DIR}/cmake/embed_stmts.cmake
    COMMENT "embedding ${var} from ${dir}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
