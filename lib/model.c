/* Placeholder: implemented in a following commit. */
typedef int mrnn__placeholder_model;
