"""`case note|tag|bookmark|edit-bookmark|unannotate|annotations`: notes, tags and bookmarks
on evidence items and their frames, each one audited under --actor.

Texts are the examiner's (or, in a case handed over, anyone's), so every one is printed
through `shown()`; with --json they go out as JSON strings, which escape everything.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

from engine.api import Annotation, AnnotationKind, BookmarkStatus, Case, Workstation
from engine.cli.output import EXIT_OK, print_json, shown

Options = Callable[[argparse.ArgumentParser], None]


class IntermixedParser(argparse.ArgumentParser):
    """A parser that takes options and positionals in any order.

    Python 3.11's argparse gives an optional positional nothing once an option precedes it,
    so `case bookmark CASE 1 --status warning TEXT` would be refused as an unrecognised TEXT;
    `parse_known_intermixed_args` reads the options first and the positionals after them.
    """

    _parsing = False

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        if self._parsing:  # parse_known_intermixed_args calls back here for each of its passes
            return super().parse_known_args(args, namespace)
        self._parsing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._parsing = False


def register(sub: argparse._SubParsersAction, common: Options) -> None:
    """Add the annotation actions to the `case` command; `common` adds --json and --actor."""
    note = sub.add_parser("note", help="add a note to an evidence item or one of its frames")
    _target(note, frame_help="the frame the note is about (default: the whole item)")
    note.add_argument("text", metavar="TEXT")
    common(note)
    note.set_defaults(handler=cmd_note)

    tag = sub.add_parser("tag", help="tag an evidence item (tags filter the evidence table)")
    _target(tag, frame_help="the frame the tag is about (default: the whole item)")
    tag.add_argument("text", metavar="TAG")
    common(tag)
    tag.set_defaults(handler=cmd_tag)

    bookmark = sub.add_parser("bookmark", help="bookmark a frame with a status and a comment")
    _target(bookmark, frame_help="the frame to bookmark (default 0; a still image has only frame 0)", default=0)
    bookmark.add_argument("--status", choices=[str(s) for s in BookmarkStatus], default=str(BookmarkStatus.OK),
                          help="ok, check (to be checked) or warning (default ok)")
    bookmark.add_argument("text", metavar="TEXT", nargs="?", default="", help="the bookmark's comment")
    common(bookmark)
    bookmark.set_defaults(handler=cmd_bookmark)

    edit = sub.add_parser("edit-bookmark", help="change a bookmark's status and/or comment")
    edit.add_argument("case", metavar="CASE")
    edit.add_argument("annotation_id", metavar="BOOKMARK_ID", type=int)
    edit.add_argument("--status", choices=[str(s) for s in BookmarkStatus])
    edit.add_argument("--comment", help="the new comment (\"\" clears it)")
    common(edit)
    edit.set_defaults(handler=cmd_edit_bookmark)

    remove = sub.add_parser("unannotate", help="remove a note, tag or bookmark (the audit log keeps it)")
    remove.add_argument("case", metavar="CASE")
    remove.add_argument("annotation_id", metavar="ANNOTATION_ID", type=int)
    common(remove)
    remove.set_defaults(handler=cmd_unannotate)

    listing = sub.add_parser("annotations", help="list the notes, tags and bookmarks of a case")
    listing.add_argument("case", metavar="CASE")
    listing.add_argument("--evidence", type=int, metavar="ID", help="only those of this evidence item")
    listing.add_argument("--kind", choices=[str(k) for k in AnnotationKind], help="only notes, tags or bookmarks")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=cmd_annotations)


def _target(parser: argparse.ArgumentParser, frame_help: str, default: int | None = None) -> None:
    parser.add_argument("case", metavar="CASE")
    parser.add_argument("evidence_id", metavar="EVIDENCE_ID", type=int)
    parser.add_argument("--frame", type=int, default=default, metavar="N", help=frame_help)


def annotation_json(a: Annotation) -> dict[str, Any]:
    return {"id": a.id, "evidence_id": a.evidence_id, "frame_index": a.frame_index, "kind": a.kind,
            "status": a.status, "text": a.text, "author": a.author, "created_at": a.created_at}


def _describe(a: Annotation) -> str:
    frame = "" if a.frame_index is None else f", frame {a.frame_index}"
    status = f" ({shown(a.status)})" if a.status else ""
    text = f": {shown(a.text)}" if a.text else ""
    return f"{shown(a.kind)} {a.id} on evidence {a.evidence_id}{frame}{status}{text}"


def _act(args: argparse.Namespace, verb: str, act: Callable[[Case], Annotation]) -> int:
    """Open the case for writing, `act` on one annotation, and print it as `act` returns it."""
    with Workstation(args.home).open_case(args.case, actor=args.actor) as case:
        annotation = act(case)
    if args.json:
        print_json({"case": args.case, **annotation_json(annotation)})
    else:
        print(f"{verb} {_describe(annotation)}")
    return EXIT_OK


def cmd_note(args: argparse.Namespace) -> int:
    return _act(args, "added", lambda case: case.annotation(case.add_note(args.evidence_id, args.text, args.frame)))


def cmd_tag(args: argparse.Namespace) -> int:
    return _act(args, "added", lambda case: case.annotation(case.add_tag(args.evidence_id, args.text, args.frame)))


def cmd_bookmark(args: argparse.Namespace) -> int:
    return _act(args, "added", lambda case: case.annotation(
        case.add_bookmark(args.evidence_id, args.frame, args.text, args.status)))


def cmd_edit_bookmark(args: argparse.Namespace) -> int:
    return _act(args, "now", lambda case: case.update_bookmark(args.annotation_id, status=args.status,
                                                               text=args.comment))


def cmd_unannotate(args: argparse.Namespace) -> int:
    def remove(case: Case) -> Annotation:
        removed = case.annotation(args.annotation_id)
        case.remove_annotation(args.annotation_id)
        return removed

    return _act(args, "removed", remove)


def _print_listing(found: list[Annotation]) -> None:
    if not found:
        print("no notes, tags or bookmarks")
        return
    print(f"{'id':>5}  {'evidence':>8}  {'frame':>5}  {'kind':<8}  {'status':<7}  {'author':<12}  {'time':<32}  text")
    for a in found:
        frame = "-" if a.frame_index is None else str(a.frame_index)
        print(f"{a.id:>5}  {a.evidence_id:>8}  {frame:>5}  {shown(a.kind):<8}  {shown(a.status or '-'):<7}  "
              f"{shown(a.author):<12}  {shown(a.created_at):<32}  {shown(a.text)}")


def cmd_annotations(args: argparse.Namespace) -> int:
    with Workstation(args.home).open_case(args.case, readonly=True) as case:
        if args.evidence is not None:
            case.evidence(args.evidence)  # a CaseError when there is no such item
        kind = AnnotationKind(args.kind) if args.kind else None
        found = case.annotations(args.evidence, kind)
    if args.json:
        print_json({"case": args.case, "annotations": [annotation_json(a) for a in found]})
    else:
        _print_listing(found)
    return EXIT_OK
