"""The student: a small sequential recommender trained on CPU from event sequences, frozen product-text embeddings
and (optionally) LLM-teacher judgments. Plain Python/torch: nothing here imports Django.

    from dragonrec.recommender.ml import Student, StudentConfig, StudentRanker, TeacherLabel, train_student
"""

from dragonrec.recommender.ml.data import TeacherLabel
from dragonrec.recommender.ml.model import StudentConfig, StudentModel
from dragonrec.recommender.ml.ranker import StudentRanker
from dragonrec.recommender.ml.student import Student
from dragonrec.recommender.ml.train import TrainResult, train_student

__all__ = ["Student", "StudentConfig", "StudentModel", "StudentRanker", "TeacherLabel", "TrainResult", "train_student"]
