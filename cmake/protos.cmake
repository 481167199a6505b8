# netmarket_protos(<target> <proto_root> <file.proto>...): a static library with the protobuf and
# gRPC code generated from the files (paths relative to proto_root, which is also the import root).
get_target_property(NETMARKET_GRPC_CPP_PLUGIN gRPC::grpc_cpp_plugin LOCATION)

function(netmarket_protos target root)
  set(gen_dir ${CMAKE_CURRENT_BINARY_DIR}/${target}_gen)
  set(sources)
  foreach(proto ${ARGN})
    string(REGEX REPLACE "\\.proto$" "" stem ${proto})
    set(outs ${gen_dir}/${stem}.pb.cc ${gen_dir}/${stem}.pb.h
             ${gen_dir}/${stem}.grpc.pb.cc ${gen_dir}/${stem}.grpc.pb.h)
    add_custom_command(
      OUTPUT ${outs}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${gen_dir}
      COMMAND protobuf::protoc --proto_path=${root} --proto_path=${PROJECT_SOURCE_DIR}/proto
        --cpp_out=${gen_dir} --grpc_out=${gen_dir}
        --plugin=protoc-gen-grpc=${NETMARKET_GRPC_CPP_PLUGIN} ${root}/${proto}
      DEPENDS ${root}/${proto} protobuf::protoc
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND sources ${gen_dir}/${stem}.pb.cc ${gen_dir}/${stem}.grpc.pb.cc)
  endforeach()
  add_library(${target} STATIC ${sources})
  target_include_directories(${target} SYSTEM PUBLIC ${gen_dir})
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf gRPC::grpc++)
endfunction()
