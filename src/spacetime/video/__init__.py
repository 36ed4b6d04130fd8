"""Video file I/O on PyAV: decode files and frame folders, resample by fps, write mp4/gif/png.

At the API edge a clip is ``uint8 (T, H, W, 3)`` RGB (DESIGN.md)::

    from spacetime.video import read_video, write_video

    clip = read_video("clip.mp4", fps=8, max_frames=16, size=128)  # Video(frames, fps, path)
    write_video("out.mp4", clip.frames, fps=clip.fps)
"""

from spacetime.errors import VideoError
from spacetime.video.frames import (
    Video,
    natural_key,
    parse_size,
    resize_frame,
    resize_frames,
)
from spacetime.video.reader import (
    FOLDER_FPS,
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    list_videos,
    read_image,
    read_video,
)
from spacetime.video.writer import (
    strip_indices,
    write_frames,
    write_gif,
    write_mp4,
    write_strip,
    write_video,
)

__all__ = [
    "FOLDER_FPS",
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "Video",
    "VideoError",
    "list_videos",
    "natural_key",
    "parse_size",
    "read_image",
    "read_video",
    "resize_frame",
    "resize_frames",
    "strip_indices",
    "write_frames",
    "write_gif",
    "write_mp4",
    "write_strip",
    "write_video",
]
