#!/usr/bin/env python3
"""Reads a TensorBoard event file back, independently of accent's writer (train/tensorboard_writer.h).

TFRecord frames are checked with a bitwise CRC-32C written here from its definition (not a table), and every
record is decoded by Google's protobuf library (Debian's python3-protobuf) against the message definitions of
tensorflow/core/util/event.proto and tensorflow/core/framework/summary.proto (the fields TensorBoard reads for
scalars and text), built as descriptors below. Prints one JSON object:
  {"events": [{"wall_time", "step", "file_version", "values": [{"tag", "simple_value" | "text", "plugin"}]}]}
Exits non-zero on a bad frame, a CRC mismatch, or a record protobuf cannot parse.
"""
import json
import struct
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(data: bytes) -> int:
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def build_messages():
    F = descriptor_pb2.FieldDescriptorProto
    f = descriptor_pb2.FileDescriptorProto(name="tfevents_subset.proto", package="tensorflow", syntax="proto3")

    def message(name, fields):
        m = f.message_type.add(name=name)
        for fname, number, ftype, label, type_name in fields:
            field = m.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                field.type_name = type_name
        return m

    opt, rep = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    message("Dim", [("size", 1, F.TYPE_INT64, opt, None), ("name", 2, F.TYPE_STRING, opt, None)])
    message("TensorShapeProto", [("dim", 2, F.TYPE_MESSAGE, rep, ".tensorflow.Dim"),
                                 ("unknown_rank", 3, F.TYPE_BOOL, opt, None)])
    message("TensorProto", [("dtype", 1, F.TYPE_INT32, opt, None),
                            ("tensor_shape", 2, F.TYPE_MESSAGE, opt, ".tensorflow.TensorShapeProto"),
                            ("string_val", 8, F.TYPE_BYTES, rep, None)])
    message("PluginData", [("plugin_name", 1, F.TYPE_STRING, opt, None), ("content", 2, F.TYPE_BYTES, opt, None)])
    message("SummaryMetadata", [("plugin_data", 1, F.TYPE_MESSAGE, opt, ".tensorflow.PluginData"),
                                ("display_name", 2, F.TYPE_STRING, opt, None),
                                ("summary_description", 3, F.TYPE_STRING, opt, None)])
    message("Value", [("node_name", 7, F.TYPE_STRING, opt, None), ("tag", 1, F.TYPE_STRING, opt, None),
                      ("metadata", 9, F.TYPE_MESSAGE, opt, ".tensorflow.SummaryMetadata"),
                      ("simple_value", 2, F.TYPE_FLOAT, opt, None),
                      ("tensor", 8, F.TYPE_MESSAGE, opt, ".tensorflow.TensorProto")])
    # simple_value and tensor are members of the oneof "value" in summary.proto.
    value = f.message_type[-1]
    value.oneof_decl.add(name="value")
    for field in value.field:
        if field.name in ("simple_value", "tensor"):
            field.oneof_index = 0
    message("Summary", [("value", 1, F.TYPE_MESSAGE, rep, ".tensorflow.Value")])
    message("Event", [("wall_time", 1, F.TYPE_DOUBLE, opt, None), ("step", 2, F.TYPE_INT64, opt, None),
                      ("file_version", 3, F.TYPE_STRING, opt, None),
                      ("summary", 5, F.TYPE_MESSAGE, opt, ".tensorflow.Summary")])
    event = f.message_type[-1]
    event.oneof_decl.add(name="what")
    for field in event.field:
        if field.name in ("file_version", "summary"):
            field.oneof_index = 0
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return message_factory.MessageFactory(pool).GetPrototype(pool.FindMessageTypeByName("tensorflow.Event"))


def main():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    Event = build_messages()
    data = open(sys.argv[1], "rb").read()
    events, at = [], 0
    while at < len(data):
        if at + 12 > len(data):
            sys.exit(f"truncated frame header at byte {at}")
        header = data[at:at + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[at + 8:at + 12])
        if header_crc != masked(header):
            sys.exit(f"length CRC mismatch at byte {at}")
        body = data[at + 12:at + 12 + length]
        if len(body) != length or at + 16 + length > len(data):
            sys.exit(f"truncated record at byte {at}")
        (body_crc,) = struct.unpack("<I", data[at + 12 + length:at + 16 + length])
        if body_crc != masked(body):
            sys.exit(f"data CRC mismatch at byte {at}")
        at += 16 + length
        e = Event()
        e.ParseFromString(body)
        out = {"wall_time": e.wall_time, "step": e.step, "file_version": e.file_version, "values": []}
        for v in e.summary.value:
            item = {"tag": v.tag, "plugin": v.metadata.plugin_data.plugin_name}
            kind = v.WhichOneof("value")
            if kind == "simple_value":
                item["simple_value"] = v.simple_value
            elif kind == "tensor":
                item["text"] = [s.decode("utf-8") for s in v.tensor.string_val]
                item["dtype"] = v.tensor.dtype
                item["shape"] = [d.size for d in v.tensor.tensor_shape.dim]
            out["values"].append(item)
        events.append(out)
    print(json.dumps({"events": events}))


if __name__ == "__main__":
    main()
