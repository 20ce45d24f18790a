"""Staff edits as tests replay them on derived tables (stacks.refresh, stacks.prices): set
fields and save, and name an edit's target or say it is gone."""


class TargetGone(Exception):
    """An edit's target is gone: an earlier edit in the sequence removed every candidate."""


def first(queryset):
    """The edit's target; raises TargetGone, before anything is written, if there is none."""
    row = queryset.first()
    if row is None:
        raise TargetGone(queryset.model.__name__)
    return row


def set_fields(obj, **fields):
    """Set the fields and save, as an editor's form does."""
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save()
