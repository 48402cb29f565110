from django import template

from .. import formatting

register = template.Library()

register.filter("duration", formatting.duration)
register.filter("average", formatting.average)
